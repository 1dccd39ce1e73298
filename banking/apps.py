from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BankingConfig(AppConfig):
    name = "banking"
    verbose_name = _("Bankgegevens")
    # The database's protections (infra/dbroles.py), which the tests check.
    owner_deletes_only = ("Account", "Holding", "Transaction")

    def ready(self):
        # banking depends on consent and lifecycle, never the reverse: it listens to them.
        from consent import signals as consent
        from lifecycle import signals as lifecycle

        from . import export, retention

        consent.export_sections.connect(export.export_sections)
        lifecycle.kept_data.connect(retention.kept_data)
