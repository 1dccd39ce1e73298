from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = _("Aanbiedingen")
    # The database's protections (infra/dbroles.py), which the tests check.
    append_only = ("OfferEvent",)
    owner_deletes_only = ("DataUse", "Offer", "Offer_relied_on", "FollowUp")

    def ready(self):
        # offers depends on consent and lifecycle, never the reverse: it listens to them.
        from consent import signals as consent
        from lifecycle import signals as lifecycle

        from . import export, receivers, retention, staff

        consent.consent_ended.connect(receivers.retract_on_withdrawal)
        consent.consent_ended.connect(receivers.close_follow_ups_on_phone_withdrawal)
        consent.objected.connect(receivers.close_follow_ups_on_objection)
        consent.material_change.connect(receivers.retract_on_material_change)
        consent.material_change_preview.connect(receivers.offers_retracted_by_material_change)
        consent.export_sections.connect(export.export_sections)
        consent.staff_sections.connect(staff.staff_sections)
        lifecycle.customer_closed.connect(receivers.retract_on_closure)
        lifecycle.erasure_requested.connect(receivers.erase_on_request)
        lifecycle.erasure_preview.connect(receivers.erasure_preview)
        lifecycle.kept_data.connect(retention.kept_data)
