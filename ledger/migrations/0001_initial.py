"""The proof becomes an app of its own: the ledger's models move here from `consent`.

Only Django's picture of the models moves (`SeparateDatabaseAndState`): the tables keep
their names and every row; the constraints and the index are the ones they had. The
append-only row triggers are made again under this app's names (`consent` 0009 drops the
old ones in the same `migrate`).
"""

import uuid

import django.db.models.deletion
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("consent", "0008_retention"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="LedgerTombstone",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "customer_number",
                            models.CharField(max_length=20, verbose_name="klantnummer"),
                        ),
                        (
                            "events",
                            models.PositiveIntegerField(verbose_name="aantal gebeurtenissen"),
                        ),
                        (
                            "last_sequence",
                            models.PositiveIntegerField(verbose_name="laatste volgnummer"),
                        ),
                        ("last_hash", models.CharField(max_length=64, verbose_name="laatste hash")),
                        (
                            "reason",
                            models.CharField(
                                choices=[("retention", "bewaartermijn verstreken")],
                                max_length=20,
                                verbose_name="reden",
                            ),
                        ),
                        ("as_of", models.DateField(verbose_name="peildatum")),
                        ("removed_at", models.DateTimeField(verbose_name="verwijderd op")),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="consent.customer",
                                verbose_name="klant",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "verwijderde keten",
                        "verbose_name_plural": "verwijderde ketens (bewaartermijn)",
                        "db_table": "consent_ledgertombstone",
                        "ordering": ["id"],
                    },
                ),
                migrations.CreateModel(
                    name="ConsentEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "receipt_id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                unique=True,
                                verbose_name="ontvangstbewijs",
                            ),
                        ),
                        (
                            "action",
                            models.CharField(
                                choices=[
                                    ("granted", "toestemming gegeven"),
                                    ("withdrawn", "toestemming ingetrokken"),
                                    ("objected", "bezwaar tegen direct marketing"),
                                    ("objection_lifted", "bezwaar opgeheven"),
                                    ("erasure_requested", "verwijdering gevraagd"),
                                ],
                                max_length=20,
                                verbose_name="keuze",
                            ),
                        ),
                        ("occurred_at", models.DateTimeField(verbose_name="wanneer")),
                        (
                            "channel",
                            models.CharField(
                                choices=[
                                    ("web", "website"),
                                    ("app", "app"),
                                    ("phone", "telefoon"),
                                    ("branch", "kantoor"),
                                    ("import", "import"),
                                    ("system", "systeem"),
                                ],
                                max_length=10,
                                verbose_name="kanaal",
                            ),
                        ),
                        (
                            "notice_language",
                            models.CharField(
                                choices=[("nl", "Nederlands"), ("en", "English")],
                                max_length=2,
                                verbose_name="taal van de tekst",
                            ),
                        ),
                        (
                            "notice_sha256",
                            models.CharField(max_length=64, verbose_name="SHA-256 van de tekst"),
                        ),
                        ("sequence", models.PositiveIntegerField(verbose_name="volgnummer")),
                        (
                            "previous_hash",
                            models.CharField(max_length=64, verbose_name="vorige hash"),
                        ),
                        ("hash", models.CharField(max_length=64, unique=True, verbose_name="hash")),
                        ("hmac_key", models.CharField(max_length=16, verbose_name="sleutel")),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                help_text="De klant, of de medewerker die namens de klant handelde; leeg: het systeem.",
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="door",
                            ),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="consent_events",
                                to="consent.customer",
                                verbose_name="klant",
                            ),
                        ),
                        (
                            "purpose",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="consent.purpose",
                                verbose_name="doel",
                            ),
                        ),
                        (
                            "purpose_version",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="consent.purposeversion",
                                verbose_name="tekstversie",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "toestemmingsgebeurtenis",
                        "verbose_name_plural": "toestemmingsgebeurtenissen (grootboek)",
                        "db_table": "consent_consentevent",
                        "ordering": ["customer", "sequence"],
                        "indexes": [
                            models.Index(
                                fields=["customer", "purpose", "sequence"],
                                name="consent_con_custome_a135c8_idx",
                            )
                        ],
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("customer", "sequence"), name="one_event_per_position"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "action__in",
                                        [
                                            "granted",
                                            "withdrawn",
                                            "objected",
                                            "objection_lifted",
                                            "erasure_requested",
                                        ],
                                    )
                                ),
                                name="event_action_known",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "channel__in",
                                        ["web", "app", "phone", "branch", "import", "system"],
                                    )
                                ),
                                name="event_channel_known",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(
                                        ("action__in", ["granted", "withdrawn"]),
                                        ("purpose__isnull", False),
                                        ("purpose_version__isnull", False),
                                    ),
                                    models.Q(
                                        (
                                            "action__in",
                                            ["objected", "objection_lifted", "erasure_requested"],
                                        ),
                                        ("purpose__isnull", True),
                                        ("purpose_version__isnull", True),
                                    ),
                                    _connector="OR",
                                ),
                                name="event_shape",
                            ),
                        ],
                    },
                ),
                migrations.AddConstraint(
                    model_name="ledgertombstone",
                    constraint=models.UniqueConstraint(
                        fields=("customer",), name="one_tombstone_per_customer"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="ledgertombstone",
                    constraint=models.CheckConstraint(
                        condition=models.Q(("reason__in", ["retention"])),
                        name="tombstone_reason_known",
                    ),
                ),
                migrations.AddConstraint(
                    model_name="ledgertombstone",
                    constraint=models.CheckConstraint(
                        condition=models.Q(
                            ("events__gte", 1), ("last_sequence", models.F("events"))
                        ),
                        name="tombstone_counts_events",
                    ),
                ),
            ],
            database_operations=[],
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="consentevent",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c3c3746d63dbdbac81da08aa72a80bde4ed5dbdb",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_1c579",
                    table="consent_consentevent",
                    when="BEFORE",
                ),
            ),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="ledgertombstone",
            trigger=pgtrigger.compiler.Trigger(
                name="tombstones_append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="05daeaf49750f8f4c0b0d2bd591212be2c71ab49",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_tombstones_append_only_a1e63",
                    table="consent_ledgertombstone",
                    when="BEFORE",
                ),
            ),
        ),
    ]
