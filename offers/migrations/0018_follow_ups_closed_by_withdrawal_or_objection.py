"""A follow-up the system closes: the customer withdrew the consent the offer relied on
(`withdrawn`) or objected to direct marketing (`objected`, with the cause `objection`)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("consent", "0012_immune_to_shadowing_and_deletes"),
        ("ledger", "0004_restores"),
        ("offers", "0017_banking_data_moved_out"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="followup",
            name="follow_up_closed_has_outcome",
        ),
        migrations.RemoveConstraint(
            model_name="offerevent",
            name="offer_event_cause_known",
        ),
        migrations.AlterField(
            model_name="followup",
            name="outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("taken", "klant neemt het product"),
                    ("declined", "klant ziet ervan af"),
                    ("unreachable", "klant niet bereikt"),
                    ("withdrawn", "klant trok toestemming in"),
                    ("objected", "klant maakte bezwaar"),
                ],
                default="",
                max_length=12,
                verbose_name="uitkomst",
            ),
        ),
        migrations.AlterField(
            model_name="offerevent",
            name="cause",
            field=models.CharField(
                choices=[
                    ("engine", "voorgesteld door de engine"),
                    ("review", "beoordeling"),
                    ("customer_answer", "antwoord van de klant"),
                    ("consent_withdrawn", "toestemming ingetrokken"),
                    ("material_change", "tekst materieel gewijzigd"),
                    ("consent_lapsed", "toestemming geldt niet meer"),
                    ("past_valid_until", "geldigheidsdatum voorbij"),
                    ("follow_up", "terugbellen"),
                    ("customer_left", "klant is vertrokken"),
                    ("objection", "bezwaar tegen direct marketing"),
                ],
                max_length=20,
                verbose_name="aanleiding",
            ),
        ),
        migrations.AlterField(
            model_name="offerevent",
            name="outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("taken", "klant neemt het product"),
                    ("declined", "klant ziet ervan af"),
                    ("unreachable", "klant niet bereikt"),
                    ("withdrawn", "klant trok toestemming in"),
                    ("objected", "klant maakte bezwaar"),
                ],
                db_default="",
                max_length=12,
                verbose_name="uitkomst",
            ),
        ),
        migrations.AddConstraint(
            model_name="followup",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        (
                            "outcome__in",
                            ["taken", "declined", "unreachable", "withdrawn", "objected"],
                        ),
                        ("status", "closed"),
                    ),
                    models.Q(models.Q(("status", "closed"), _negated=True), ("outcome", "")),
                    _connector="OR",
                ),
                name="follow_up_closed_has_outcome",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "cause__in",
                        [
                            "engine",
                            "review",
                            "customer_answer",
                            "consent_withdrawn",
                            "material_change",
                            "consent_lapsed",
                            "past_valid_until",
                            "follow_up",
                            "customer_left",
                            "objection",
                        ],
                    )
                ),
                name="offer_event_cause_known",
            ),
        ),
    ]
