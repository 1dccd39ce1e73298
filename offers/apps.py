from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self):
        # offers depends on consent, never the reverse: subscribe to its registries.
        from consent.export import register_export_section
        from consent.hooks import on_consent_ended, on_material_change

        from . import export
        from .engine import retract_on_material_change, retract_on_withdrawal

        on_consent_ended(retract_on_withdrawal)
        on_material_change(retract_on_material_change)
        register_export_section("offers", export.offers_for_export)
        register_export_section("accounts", export.accounts_for_export)
        register_export_section("holdings", export.holdings_for_export)
        register_export_section("transactions", export.transactions_for_export)
        register_export_section("data_use", export.data_use_for_export)
