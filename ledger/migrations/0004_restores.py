"""Restores of an older backup, recorded and signed (`ledger.models.Restore`)."""

import django.contrib.postgres.fields
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models

from infra.dbroles import AppendOnly


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_events_never_in_the_future"),
    ]

    operations = [
        migrations.CreateModel(
            name="Restore",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("restored_at", models.DateTimeField(verbose_name="hersteld op")),
                (
                    "backup_taken_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="back-up van"),
                ),
                (
                    "database_size",
                    models.BigIntegerField(verbose_name="bladeren in de herstelde database"),
                ),
                (
                    "checkpoint_size",
                    models.BigIntegerField(verbose_name="bladeren in het nieuwste checkpoint"),
                ),
                (
                    "checkpoint_at",
                    models.DateTimeField(verbose_name="tijd van het nieuwste checkpoint"),
                ),
                (
                    "lost_leaves",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.BigIntegerField(), verbose_name="verloren plaatsen"
                    ),
                ),
                ("lost", models.JSONField(verbose_name="verloren keuzes per klant")),
                ("note", models.TextField(verbose_name="ondertekende notitie")),
            ],
            options={
                "verbose_name": "herstel",
                "verbose_name_plural": "herstellingen",
                "db_table": "ledger_restore",
                "ordering": ["id"],
            },
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="restore",
            trigger=pgtrigger.compiler.Trigger(
                name="restores_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="72db816ae192ffef79c598407a0b2ee718fd5ec2",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_restores_append_only_d6c10",
                    table="ledger_restore",
                    when="BEFORE",
                ),
            ),
        ),
        AppendOnly("Restore"),
    ]
