from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Toestemming")
    # The database's protections (infra/dbroles.py), which the tests check.
    append_only = ("PurposeVersion", "StaffAction")
    truncate_refused = ("ConsentState",)
    owner_deletes_only = ("Customer", "ConsentState")

    def ready(self):
        # consent depends on the ledger, never the reverse: it listens to it.
        from ledger import signals as ledger

        from . import audit, restore

        ledger.audit.connect(audit.check_ledger)
        ledger.restored.connect(restore.stop_processing_after_restore)
