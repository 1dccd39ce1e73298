"""The customer's linked apps (`api.linked_apps`): one row per customer and app from the
first token until the access is revoked. The customer's foreign key cascades in the
database too, so a customer removed by SQL takes their rows along."""

import django.db.models.deletion
from django.db import migrations, models

# The model declares the key without a constraint (`db_constraint=False`): this one is it.
CASCADE_IN_DATABASE = """
ALTER TABLE api_linkedapp ADD CONSTRAINT api_linkedapp_customer_cascades
    FOREIGN KEY (customer_id) REFERENCES consent_customer (id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
"""
DROP_CASCADE = "ALTER TABLE api_linkedapp DROP CONSTRAINT api_linkedapp_customer_cascades"


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0012_checks_are_logged_reads"),
        ("consent", "0012_immune_to_shadowing_and_deletes"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="LinkedApp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("authorised_at", models.DateTimeField()),
                ("scope", models.TextField(blank=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "revoked_by",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("customer", "door u ingetrokken"),
                            ("left_bank", "ingetrokken toen u klant af was"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="oauth2_provider.application",
                    ),
                ),
                (
                    "customer",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="consent.customer",
                    ),
                ),
            ],
            options={
                "verbose_name": "gekoppelde app",
                "verbose_name_plural": "gekoppelde apps",
                "indexes": [
                    models.Index(fields=["customer", "-authorised_at"], name="link_per_customer")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("revoked_at__isnull", True)),
                        fields=("customer", "application"),
                        name="one_open_link_per_customer_and_app",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(
                            models.Q(("revoked_at__isnull", True), ("revoked_by", "")),
                            models.Q(
                                ("revoked_at__gte", models.F("authorised_at")),
                                ("revoked_at__isnull", False),
                                ("revoked_by__in", ["customer", "left_bank"]),
                            ),
                            _connector="OR",
                        ),
                        name="link_revoked_by_someone_after_it_began",
                    ),
                ],
            },
        ),
        migrations.RunSQL(CASCADE_IN_DATABASE, DROP_CASCADE),
    ]
