"""The log of advance notices (issue 25): what the customer was told before a consent
stops counting, one row per customer, purpose, reason and key (UNIQUE: never sent twice).

The runtime role reads and writes it (status after sending; retention deletes a
customer's rows with their proof of consent), as every table of the owner: granted here,
where the table is made. TRUNCATE is refused to everyone: an emptied log would send every
notice again.
"""

import django.db.models.deletion
from django.db import migrations, models

from infra.dbroles import GrantTable, RefuseTruncate


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0013_contact_channels"),
    ]

    operations = [
        migrations.CreateModel(
            name="AdvanceNotice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("expiry", "toestemming verloopt"),
                            ("text_change", "tekst verandert"),
                        ],
                        max_length=20,
                        verbose_name="reden",
                    ),
                ),
                ("key", models.CharField(max_length=40, verbose_name="waarover")),
                ("about_day", models.DateField(verbose_name="datum in het bericht")),
                (
                    "language",
                    models.CharField(
                        choices=[("nl", "Nederlands"), ("en", "English")],
                        max_length=2,
                        verbose_name="taal",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("sending", "wordt verstuurd"),
                            ("sent", "verstuurd"),
                            ("failed", "mislukt, wordt opnieuw geprobeerd"),
                            ("no_address", "niet verstuurd: geen e-mailadres"),
                        ],
                        max_length=20,
                        verbose_name="stand",
                    ),
                ),
                (
                    "not_sent_because",
                    models.CharField(
                        blank=True, max_length=200, verbose_name="niet verstuurd omdat"
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=1, verbose_name="pogingen")),
                ("claimed_at", models.DateTimeField(verbose_name="klaargezet op")),
                (
                    "sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="verstuurd op"),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consent.customer",
                        verbose_name="klant",
                    ),
                ),
                (
                    "purpose",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consent.purpose",
                        verbose_name="doel",
                    ),
                ),
                (
                    "version",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="consent.purposeversion",
                        verbose_name="tekstversie",
                    ),
                ),
            ],
            options={
                "verbose_name": "vooraankondiging",
                "verbose_name_plural": "vooraankondigingen",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("customer", "purpose", "reason", "key"), name="advance_notice_once"
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("sent_at__isnull", False), ("status", "sent")),
                            models.Q(
                                models.Q(("status", "sent"), _negated=True),
                                ("sent_at__isnull", True),
                            ),
                            _connector="OR",
                        ),
                        name="advance_notice_sent_at_iff_sent",
                    ),
                ],
            },
        ),
        GrantTable("consent_advancenotice"),
        RefuseTruncate("AdvanceNotice"),
    ]
