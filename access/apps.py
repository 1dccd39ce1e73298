from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "access"
    verbose_name = _("Toegang van andere partijen")

    def ready(self):
        # access depends on consent, lifecycle and the ledger, never the reverse: it listens.
        from consent import signals as consent
        from ledger import signals as ledger
        from lifecycle import signals as lifecycle

        from . import audit, export, retention, staff

        ledger.audit.connect(audit.check_texts)
        consent.export_sections.connect(export.export_sections)
        consent.staff_sections.connect(staff.staff_sections)
        lifecycle.customer_closed.connect(retention.end_on_closure)
        lifecycle.proof_removed.connect(retention.remove_on_proof_removed)
