from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LedgerConfig(AppConfig):
    name = "ledger"
    verbose_name = _("Grootboek")
    # The database's protections (infra/dbroles.py), which the tests check.
    append_only = ("ConsentEvent", "LogLeaf", "TreeNode", "Checkpoint", "Restore")
