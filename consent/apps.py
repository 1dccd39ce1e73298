from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Toestemming")
    # The database's protections (infra/dbroles.py), which the tests check.
    append_only = ("PurposeVersion", "StaffAction")
    truncate_refused = ("ConsentState", "AdvanceNotice")
    owner_deletes_only = ("Customer", "ConsentState")

    def ready(self):
        # consent depends on the ledger, never the reverse: it listens to it.
        from ledger import signals as ledger

        from . import advance_notices, audit, restore, signals

        ledger.audit.connect(audit.check_ledger)
        ledger.restored.connect(restore.stop_processing_after_restore)
        # The notices sent are lines of the history, like other apps' lines.
        signals.history_entries.connect(advance_notices.history_entries)
        signals.export_sections.connect(advance_notices.export_sections)
