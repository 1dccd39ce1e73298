"""After a restore of an older backup: what the customers and the feed's followers are told."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0007_consent_events_in_the_ledger"),
        ("consent", "0011_choices_lost_since"),
        ("ledger", "0004_restores"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="consentchange",
            name="change_kind_known",
        ),
        migrations.AlterField(
            model_name="consentchange",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.customer",
            ),
        ),
        migrations.AlterField(
            model_name="consentchange",
            name="kind",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("expired", "verlopen (maximale bewaarduur)"),
                    ("material_version", "nieuwe tekst met wezenlijke wijziging"),
                    ("turned_16", "leeftijd (16 jaar)"),
                    ("left_bank", "klant is vertrokken"),
                    ("reconciled", "rechtgezet"),
                    ("resnapshot", "neem opnieuw een momentopname"),
                ],
                max_length=20,
            ),
        ),
        migrations.AlterField(
            model_name="consentchange",
            name="may_use",
            field=models.BooleanField(null=True),
        ),
        migrations.AlterField(
            model_name="consentchange",
            name="purpose",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="consent.purpose",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "kind__in",
                        [
                            "granted",
                            "withdrawn",
                            "objected",
                            "objection_lifted",
                            "expired",
                            "material_version",
                            "turned_16",
                            "left_bank",
                            "reconciled",
                            "resnapshot",
                        ],
                    )
                ),
                name="change_kind_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("customer__isnull", True),
                        ("kind", "resnapshot"),
                        ("may_use__isnull", True),
                        ("purpose__isnull", True),
                    ),
                    models.Q(
                        models.Q(("kind", "resnapshot"), _negated=True),
                        ("customer__isnull", False),
                        ("may_use__isnull", False),
                        ("purpose__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="change_names_customer_unless_marker",
            ),
        ),
    ]
