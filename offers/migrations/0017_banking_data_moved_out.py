"""`offers` lets go of the bank's records (`banking` 0001 made them there, on the same
tables): the offer's foreign key points at `banking.Product`, the models leave offers'
state, the account trigger made under the old name is dropped, and the content types move
so that the permissions groups hold (reviewers' `view_product`) stay theirs.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("product", "account", "holding", "transaction")
OLD_TRIGGER = ("offers_account", "pgtrigger_accounts_are_never_deleted_5926b")


def move_content_types(apps, schema_editor, *, source="offers", target="banking"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is not None:
            new.delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="banking", target="offers")


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("offers", "0016_run_supervisor_due_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(
                    model_name="account",
                    name="account_kind_known",
                ),
                migrations.RemoveConstraint(
                    model_name="account",
                    name="account_iban_shape",
                ),
                migrations.RemoveConstraint(
                    model_name="account",
                    name="account_currency_code",
                ),
                migrations.RemoveConstraint(
                    model_name="holding",
                    name="one_holding_per_product",
                ),
                migrations.AlterField(
                    model_name="offer",
                    name="product",
                    field=models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="offers",
                        to="banking.product",
                        verbose_name="product",
                    ),
                ),
                migrations.RemoveIndex(
                    model_name="transaction",
                    name="transaction_by_account",
                ),
                migrations.RemoveConstraint(
                    model_name="transaction",
                    name="transaction_mcc_four_digits",
                ),
                migrations.RemoveConstraint(
                    model_name="transaction",
                    name="transaction_country_code",
                ),
                migrations.RemoveConstraint(
                    model_name="transaction",
                    name="transaction_currency_code",
                ),
                migrations.RemoveField(
                    model_name="account",
                    name="customer",
                ),
                migrations.RemoveField(
                    model_name="transaction",
                    name="account",
                ),
                migrations.DeleteModel(
                    name="Holding",
                ),
                migrations.DeleteModel(
                    name="Product",
                ),
                migrations.DeleteModel(
                    name="Account",
                ),
                migrations.DeleteModel(
                    name="Transaction",
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    f"DROP TRIGGER IF EXISTS {OLD_TRIGGER[1]} ON {OLD_TRIGGER[0]};"
                    f" DROP FUNCTION IF EXISTS {OLD_TRIGGER[1]}()",
                    migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
