from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Aanbiedingen")

    def ready(self):
        # offers depends on consent, never the reverse: subscribe to its registries.
        from consent import hooks
        from consent.export import register_export_section
        from consent.retention import register_kind
        from consent.staff import register_staff_section

        from . import export, retention
        from .engine import (
            offers_retracted_by_material_change,
            retract_on_material_change,
            retract_on_withdrawal,
        )
        from .staff import offers_for_staff

        hooks.CONSENT_ENDED.register(retract_on_withdrawal)
        hooks.MATERIAL_CHANGE.register(retract_on_material_change)
        hooks.MATERIAL_CHANGE_PREVIEW.register(offers_retracted_by_material_change)
        register_export_section("offers", export.offers_for_export)
        register_export_section("data_use", export.data_use_for_export)
        hooks.CUSTOMER_CLOSED.register(retention.retract_on_closure)
        hooks.ERASURE_REQUESTED.register(retention.erase_on_request)
        hooks.ERASURE_PREVIEW.register(retention.erasure_preview)
        register_kind("offers", remove=retention.remove_offers, oldest=retention.oldest_offer)
        register_kind(
            "data_use", remove=retention.remove_data_use, oldest=retention.oldest_data_use
        )
        register_staff_section(
            "offers", template="admin/offers/customer_offers.html", load=offers_for_staff
        )
