"""Least privilege (issue #10): the runtime role reads and writes, the ledger and the
published texts only grow, and TRUNCATE is refused on them and on the state, to everyone.
See infra/dbroles.py."""

from django.db import migrations

from infra.dbroles import AppendOnly, GrantRuntimeRole, RefuseTruncate


class Migration(migrations.Migration):
    dependencies = [("consent", "0005_ledger_hmac_and_state_mirrors_ledger")]

    operations = [
        GrantRuntimeRole(),
        AppendOnly("ConsentEvent"),
        AppendOnly("PurposeVersion"),
        RefuseTruncate("ConsentState"),
    ]
