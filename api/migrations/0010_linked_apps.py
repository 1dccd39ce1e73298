"""The customer's linked apps (`api.linked_apps`): one row per customer and app from the
first token until the access is revoked. The customer's foreign key cascades in the
database too, so a customer removed by SQL takes their rows along. Rows for the tokens
already out: an app that holds a live token of a customer is linked since its first one."""

import django.db.models.deletion
from django.db import migrations, models

# The model declares the key without a constraint (`db_constraint=False`): this one is it.
CASCADE_IN_DATABASE = """
ALTER TABLE api_linkedapp ADD CONSTRAINT api_linkedapp_customer_cascades
    FOREIGN KEY (customer_id) REFERENCES consent_customer (id)
    ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
"""
DROP_CASCADE = "ALTER TABLE api_linkedapp DROP CONSTRAINT api_linkedapp_customer_cascades"

LINK_TOKENS_ALREADY_OUT = """
INSERT INTO api_linkedapp (customer_id, application_id, authorised_at, scope, revoked_by)
SELECT customer.id, token.application_id, min(token.created),
       coalesce(max(token.scope), ''), ''
  FROM (SELECT user_id, application_id, created, scope FROM oauth2_provider_accesstoken
         WHERE user_id IS NOT NULL AND application_id IS NOT NULL AND expires > now()
        UNION ALL
        SELECT refresh.user_id, refresh.application_id, refresh.created, access.scope
          FROM oauth2_provider_refreshtoken AS refresh
          LEFT JOIN oauth2_provider_accesstoken AS access ON access.id = refresh.access_token_id
         WHERE refresh.user_id IS NOT NULL AND refresh.revoked IS NULL) AS token
  JOIN oauth2_provider_application AS app ON app.id = token.application_id
  JOIN consent_customer AS customer ON customer.user_id = token.user_id
 WHERE app.authorization_grant_type = 'authorization-code' AND customer.closed_on IS NULL
 GROUP BY customer.id, token.application_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0009_idempotency_keys"),
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
        migrations.RunSQL(LINK_TOKENS_ALREADY_OUT, migrations.RunSQL.noop),
    ]
