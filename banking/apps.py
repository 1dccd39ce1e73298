from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BankingConfig(AppConfig):
    name = "banking"
    verbose_name = _("Bankgegevens")

    def ready(self):
        # banking depends on consent, never the reverse: subscribe to its registries.
        from consent.export import register_export_section
        from consent.retention import register_kind

        from . import export, retention

        register_export_section("accounts", export.accounts_for_export)
        register_export_section("holdings", export.holdings_for_export)
        register_export_section("transactions", export.transactions_for_export)
        register_kind(
            "transactions",
            remove=retention.remove_transactions,
            oldest=retention.oldest_transaction,
        )
        register_kind("accounts", remove=retention.remove_accounts, oldest=retention.oldest_account)
