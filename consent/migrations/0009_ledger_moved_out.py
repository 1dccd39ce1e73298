"""The ledger's models now belong to the `ledger` app (its migration 0001 made them there,
on the same tables). Here `consent` lets go of them: its foreign keys point at the ledger's
model, the row triggers made under the old names are dropped (the ledger's own replaced
them), and the models leave consent's state. The content types move too, so the
permissions that groups hold on the ledger (e.g. privacy officers' `view_consentevent`)
stay theirs.
"""

import django.db.models.deletion
from django.db import migrations, models

MOVED = ("consentevent", "ledgertombstone")
OLD_TRIGGERS = (
    ("consent_consentevent", "pgtrigger_append_only_3dd0f"),
    ("consent_ledgertombstone", "pgtrigger_tombstones_append_only_4652c"),
)


def move_content_types(apps, schema_editor, *, source="consent", target="ledger"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        old = ContentType.objects.filter(app_label=source, model=model).first()
        if old is None:
            continue
        new = ContentType.objects.filter(app_label=target, model=model).first()
        if new is not None:
            # Made meanwhile (a post_migrate in between): the old one keeps the permissions.
            new.delete()
        old.app_label = target
        old.save(update_fields=["app_label"])


def move_content_types_back(apps, schema_editor):
    move_content_types(apps, schema_editor, source="ledger", target="consent")


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0008_retention"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("ledger", "0001_initial"),
        ("offers", "0014_consent_events_in_the_ledger"),
        ("api", "0007_consent_events_in_the_ledger"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="staffaction",
                    name="event",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="staff_action",
                        to="ledger.consentevent",
                        verbose_name="gebeurtenis",
                    ),
                ),
                migrations.AlterField(
                    model_name="consentstate",
                    name="event",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="gebeurtenis",
                    ),
                ),
                migrations.DeleteModel(name="ConsentEvent"),
                migrations.DeleteModel(name="LedgerTombstone"),
            ],
            database_operations=[
                migrations.RunSQL(
                    [
                        f"DROP TRIGGER IF EXISTS {name} ON {table}; DROP FUNCTION IF EXISTS {name}()"
                        for table, name in OLD_TRIGGERS
                    ],
                    migrations.RunSQL.noop,
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
