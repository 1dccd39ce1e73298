from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Offers")

    def ready(self):
        # offers depends on consent, never the reverse: subscribe to its registries.
        from consent.export import register_export_section
        from consent.hooks import on_consent_ended, on_material_change

        from .engine import retract_on_material_change, retract_on_withdrawal
        from .export import offers_for_export

        on_consent_ended(retract_on_withdrawal)
        on_material_change(retract_on_material_change)
        register_export_section("offers", offers_for_export)
