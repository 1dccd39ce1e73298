"""The data user's feed (`GET /api/v1/consents/changes`): every change to its
permissions, in order. Privacy officers may read it."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models


def grant(apps, schema_editor):
    app_config = apps.get_app_config("access")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    permission = apps.get_model("auth", "Permission").objects.get(
        content_type__app_label="access", codename="view_accesschange"
    )
    apps.get_model("auth", "Group").objects.get(name="Privacy officers").permissions.add(permission)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0002_staff_groups"),
    ]

    operations = [
        migrations.CreateModel(
            name="AccessChange",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "event",
                    models.CharField(
                        choices=[
                            ("approved", "goedgekeurd"),
                            ("rejected", "geweigerd"),
                            ("revokedByPsu", "ingetrokken door de klant"),
                            ("terminatedByTpp", "beëindigd door de andere partij"),
                            ("dataUserSuspended", "partij geschorst"),
                            ("dataUserReinstated", "schorsing opgeheven"),
                        ],
                        max_length=20,
                        verbose_name="wat",
                    ),
                ),
                ("consent_status", models.CharField(max_length=20, verbose_name="status")),
                ("effective_at", models.DateTimeField(verbose_name="wanneer")),
                (
                    "data_user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="access.datauser",
                        verbose_name="partij",
                    ),
                ),
                (
                    "permission",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="changes",
                        to="access.permission",
                        verbose_name="toegang",
                    ),
                ),
            ],
            options={
                "verbose_name": "wijziging voor een andere partij",
                "verbose_name_plural": "wijzigingen voor andere partijen",
                "ordering": ["id"],
                "indexes": [
                    models.Index(fields=["data_user", "id"], name="access_change_per_data_user")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "event__in",
                                [
                                    "approved",
                                    "rejected",
                                    "revokedByPsu",
                                    "terminatedByTpp",
                                    "dataUserSuspended",
                                    "dataUserReinstated",
                                ],
                            )
                        ),
                        name="access_change_event_known",
                    )
                ],
            },
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
