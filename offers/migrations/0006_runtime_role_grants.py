"""Bulk transaction loads rebuild the secondary index; the runtime role may do only that
through two owner functions (infra/dbroles.py)."""

from django.db import migrations

from infra.dbroles import AllowIndexRebuild


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0005_staff_see_banded_evidence"),
        ("consent", "0006_runtime_role_grants"),
    ]

    operations = [AllowIndexRebuild("Transaction")]
