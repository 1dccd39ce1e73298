from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Toestemming")

    def ready(self):
        # consent depends on the ledger, never the reverse: it listens to it.
        from ledger import signals as ledger

        from . import audit, restore

        ledger.audit.connect(audit.check_ledger)
        ledger.restored.connect(restore.stop_processing_after_restore)
