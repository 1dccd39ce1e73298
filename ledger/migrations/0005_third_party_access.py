"""A third party's access is a ledger event about no purpose (`access_granted`,
`access_withdrawn`): its notice hash is that of the text the customer approved."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0015_third_party_access"),
        ("ledger", "0004_restores"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="consentevent",
            name="event_action_known",
        ),
        migrations.RemoveConstraint(
            model_name="consentevent",
            name="event_shape",
        ),
        migrations.AlterField(
            model_name="consentevent",
            name="action",
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
                verbose_name="keuze",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "action__in",
                        [
                            "granted",
                            "withdrawn",
                            "objected",
                            "objection_lifted",
                            "erasure_requested",
                            "left",
                            "access_granted",
                            "access_withdrawn",
                        ],
                    )
                ),
                name="event_action_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="consentevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("action__in", ["granted", "withdrawn"]),
                        ("purpose__isnull", False),
                        ("purpose_version__isnull", False),
                    ),
                    models.Q(
                        (
                            "action__in",
                            [
                                "objected",
                                "objection_lifted",
                                "erasure_requested",
                                "left",
                                "access_granted",
                                "access_withdrawn",
                            ],
                        ),
                        ("purpose__isnull", True),
                        ("purpose_version__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="event_shape",
            ),
        ),
    ]
