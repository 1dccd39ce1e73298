"""Offers point at consent events in the ledger app (the table is the same)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_initial"),
        ("offers", "0013_run_chunks"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="datause",
                    name="consent_event",
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="toestemmingsgebeurtenis",
                    ),
                ),
                migrations.RemoveField(
                    model_name="offer",
                    name="relied_on",
                ),
                migrations.AlterField(
                    model_name="offerevent",
                    name="consent_event",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="toestemmingsgebeurtenis",
                    ),
                ),
                migrations.AddField(
                    model_name="offer",
                    name="relied_on",
                    field=models.ManyToManyField(
                        help_text="De toestemmingen waarop dit aanbod steunt; wordt er een ingetrokken, dan wordt het aanbod ingetrokken.",
                        related_name="+",
                        to="ledger.consentevent",
                        verbose_name="toestemmingen waarop het steunt",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
