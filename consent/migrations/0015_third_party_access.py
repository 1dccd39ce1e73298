"""The ledger knows third parties' access (`access_granted`, `access_withdrawn`); the
state's field shares its choices (no state row is ever written for them)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0014_advance_notices"),
    ]

    operations = [
        migrations.AlterField(
            model_name="consentstate",
            name="state",
            field=models.CharField(
                choices=[
                    ("granted", "toestemming gegeven"),
                    ("withdrawn", "toestemming ingetrokken"),
                    ("objected", "bezwaar tegen direct marketing"),
                    ("objection_lifted", "bezwaar opgeheven"),
                    ("erasure_requested", "verwijdering gevraagd"),
                    ("left", "klant vertrokken"),
                    ("access_granted", "toegang gegeven aan een andere partij"),
                    ("access_withdrawn", "toegang van een andere partij beëindigd"),
                ],
                max_length=20,
                verbose_name="stand",
            ),
        ),
    ]
