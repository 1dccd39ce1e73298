"""Signed webhooks (api/webhooks.py): endpoints, deliveries and the log of attempts.

- A delivery goes with the feed's row (retention removes those through an owner's
  function, which Django's collector never sees) and with its endpoint: ON DELETE CASCADE
  in the database (`CASCADES`); an attempt goes with its delivery the same way.
- Privacy officers register, approve (four eyes), rotate and disable endpoints and read
  the deliveries and their log; nobody else does.
- The runtime role reads and writes the new tables by the schema's default privileges
  (infra.dbroles.GrantRuntimeRole); nothing here is append-only.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUP = "Privacy officers"
PERMISSIONS = [
    "view_webhookendpoint",
    "add_webhookendpoint",
    "change_webhookendpoint",
    "approve_webhookendpoint",
    "view_webhookdelivery",
    "view_webhookattempt",
]
# (table, column, referenced table): Django declares these without a constraint.
CASCADES = [
    ("api_webhookdelivery", "change_id", "api_consentchange"),
    ("api_webhookdelivery", "endpoint_id", "api_webhookendpoint"),
]


def _permissions(apps):
    app_config = apps.get_app_config("api")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    rows = list(Permission.objects.filter(content_type__app_label="api", codename__in=PERMISSIONS))
    missing = set(PERMISSIONS) - {row.codename for row in rows}
    if missing:
        raise RuntimeError(f"permissions missing: {sorted(missing)}")
    return rows


def grant(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get(name=GROUP).permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    apps.get_model("auth", "Group").objects.get(name=GROUP).permissions.remove(*_permissions(apps))


def _cascade(table, column, target):
    name = f"{table}_{column}_cascade"
    return migrations.RunSQL(
        f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({column})"
        f" REFERENCES {target} (id) ON DELETE CASCADE",
        f"ALTER TABLE {table} DROP CONSTRAINT {name}",
    )


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0010_feed_knows_renewals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("oauth2_provider", "0001_initial"),
        ("offers", "0004_staff_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "wordt verzonden"),
                            ("delivered", "afgeleverd"),
                            ("failed", "mislukt"),
                            ("cancelled", "geannuleerd: endpoint uitgeschakeld"),
                        ],
                        default="pending",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="pogingen")),
                (
                    "due_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="volgende poging"),
                ),
                ("created_at", models.DateTimeField(verbose_name="aangemaakt op")),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="afgerond op"),
                ),
                (
                    "change",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="api.consentchange",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook-aflevering",
                "verbose_name_plural": "webhook-afleveringen",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookAttempt",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveSmallIntegerField(verbose_name="poging")),
                ("attempted_at", models.DateTimeField(db_index=True, verbose_name="verzonden op")),
                (
                    "status_code",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="HTTP-status"
                    ),
                ),
                ("duration_ms", models.PositiveIntegerField(verbose_name="duur (ms)")),
                ("error", models.TextField(blank=True, verbose_name="fout")),
                ("response", models.TextField(blank=True, verbose_name="antwoord")),
                (
                    "delivery",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.DB_CASCADE,
                        related_name="attempt_log",
                        to="api.webhookdelivery",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook-poging",
                "verbose_name_plural": "webhook-pogingen",
                "ordering": ["-attempted_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("url", models.URLField(max_length=2000, verbose_name="URL")),
                ("secret", models.CharField(max_length=200)),
                ("previous_secret", models.CharField(blank=True, max_length=200)),
                ("previous_secret_until", models.DateTimeField(blank=True, null=True)),
                ("after_id", models.BigIntegerField(default=0, verbose_name="tot en met feed-id")),
                ("registered_at", models.DateTimeField(verbose_name="geregistreerd op")),
                (
                    "approved_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="goedgekeurd op"),
                ),
                (
                    "secret_rotated_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="secret laatst vernieuwd op"
                    ),
                ),
                (
                    "disabled_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="uitgeschakeld op"),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="oauth2_provider.application",
                        verbose_name="systeem (API-client)",
                    ),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="goedgekeurd door",
                    ),
                ),
                (
                    "disabled_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="uitgeschakeld door",
                    ),
                ),
                (
                    "registered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="geregistreerd door",
                    ),
                ),
                (
                    "secret_rotated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="secret laatst vernieuwd door",
                    ),
                ),
            ],
            options={
                "verbose_name": "webhook-endpoint",
                "verbose_name_plural": "webhook-endpoints",
                "ordering": ["-registered_at", "-id"],
                "permissions": [("approve_webhookendpoint", "Webhook-endpoints goedkeuren")],
            },
        ),
        migrations.AddField(
            model_name="webhookdelivery",
            name="endpoint",
            field=models.ForeignKey(
                db_constraint=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="deliveries",
                to="api.webhookendpoint",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookendpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("approved_at__isnull", True), ("approved_by__isnull", True)),
                    models.Q(("approved_at__isnull", False), ("approved_by__isnull", False)),
                    _connector="OR",
                ),
                name="webhook_approved_by_someone",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookendpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("approved_by__isnull", True),
                    models.Q(("approved_by", models.F("registered_by")), _negated=True),
                    _connector="OR",
                ),
                name="webhook_approved_by_another",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookendpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("disabled_at__isnull", True), ("disabled_by__isnull", True)),
                    models.Q(("disabled_at__isnull", False), ("disabled_by__isnull", False)),
                    _connector="OR",
                ),
                name="webhook_disabled_by_someone",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookendpoint",
            constraint=models.CheckConstraint(
                condition=models.Q(("secret__startswith", "whsec_")), name="webhook_secret_format"
            ),
        ),
        migrations.AddIndex(
            model_name="webhookdelivery",
            index=models.Index(
                condition=models.Q(("status", "pending")),
                fields=["due_at"],
                name="webhook_delivery_due",
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.UniqueConstraint(
                fields=("endpoint", "change"), name="one_delivery_per_row"
            ),
        ),
        migrations.AddConstraint(
            model_name="webhookdelivery",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("due_at__isnull", False), ("status", "pending")),
                    models.Q(
                        models.Q(("status", "pending"), _negated=True),
                        ("due_at__isnull", True),
                        ("finished_at__isnull", False),
                    ),
                    _connector="OR",
                ),
                name="webhook_pending_is_due",
            ),
        ),
        *(_cascade(*cascade) for cascade in CASCADES),
        migrations.RunPython(grant, revoke),
    ]
