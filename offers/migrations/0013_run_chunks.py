"""Runs as a set of chunks (issue #13): a row per chunk with its status, counts and
attempts; at most one open (queued or running) run per as-of date, by a partial unique
index instead of the engine's session lock; who started a run; and the permission to start
or resume one from the admin, for offer reviewers and privacy officers.

Runs of the old engine still marked running were stopped half-way (the engine that made
them held a session lock, gone with it): they become `interrupted` before the index
exists. `chunks_done` is gone: the chunk rows say it.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

GROUPS = ("Offer reviewers", "Privacy officers")


def interrupt_old_running_runs(apps, schema_editor):
    apps.get_model("offers", "OfferRun").objects.filter(status="running").update(
        status="interrupted"
    )


def let_groups_start_runs(apps, schema_editor):
    app_config = apps.get_app_config("offers")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    start = Permission.objects.get(content_type__app_label="offers", codename="start_offerrun")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.add(start)


def take_back(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    start = Permission.objects.filter(content_type__app_label="offers", codename="start_offerrun")
    for group in apps.get_model("auth", "Group").objects.filter(name__in=GROUPS):
        group.permissions.remove(*start)


class Migration(migrations.Migration):
    dependencies = [
        ("offers", "0012_drop_whole_months"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(interrupt_old_running_runs, migrations.RunPython.noop),
        migrations.CreateModel(
            name="OfferRunChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField(verbose_name="nummer")),
                ("first_customer_id", models.BigIntegerField(verbose_name="eerste klant-id")),
                ("last_customer_id", models.BigIntegerField(verbose_name="laatste klant-id")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "in de wachtrij"),
                            ("running", "bezig"),
                            ("done", "klaar"),
                            ("failed", "mislukt"),
                        ],
                        default="queued",
                        max_length=10,
                        verbose_name="status",
                    ),
                ),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="pogingen")),
                (
                    "worker",
                    models.CharField(
                        blank=True, default="", max_length=200, verbose_name="verwerkt door"
                    ),
                ),
                (
                    "task_id",
                    models.CharField(blank=True, default="", max_length=64, verbose_name="taak"),
                ),
                (
                    "queued_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="in de wachtrij gezet om"
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="begonnen om"),
                ),
                (
                    "finished_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="klaar om"),
                ),
                ("counts", models.JSONField(default=dict, verbose_name="aantallen per regel")),
                ("error", models.TextField(blank=True, default="", verbose_name="fout")),
            ],
            options={
                "verbose_name": "deel van een run",
                "verbose_name_plural": "delen van runs",
                "ordering": ["run", "number"],
            },
        ),
        migrations.AlterModelOptions(
            name="offerrun",
            options={
                "ordering": ["-started_at"],
                "permissions": [
                    ("start_offerrun", "Mag een run van de engine starten of hervatten")
                ],
                "verbose_name": "run van de engine",
                "verbose_name_plural": "runs van de engine",
            },
        ),
        migrations.RemoveConstraint(
            model_name="offerrun",
            name="run_status_known",
        ),
        migrations.AddField(
            model_name="offerrun",
            name="started_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="gestart door",
            ),
        ),
        migrations.AlterField(
            model_name="offerrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "in de wachtrij"),
                    ("running", "bezig"),
                    ("finished", "klaar"),
                    ("failed", "mislukt"),
                    ("interrupted", "onderbroken"),
                ],
                default="running",
                max_length=12,
                verbose_name="status",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerrun",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status__in", ["queued", "running", "finished", "failed", "interrupted"])
                ),
                name="run_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=("as_of",),
                name="one_open_run_per_as_of",
            ),
        ),
        migrations.AddField(
            model_name="offerrunchunk",
            name="run",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="chunks",
                to="offers.offerrun",
                verbose_name="run",
            ),
        ),
        migrations.RemoveField(
            model_name="offerrun",
            name="chunks_done",
        ),
        migrations.AddConstraint(
            model_name="offerrunchunk",
            constraint=models.UniqueConstraint(
                fields=("run", "number"), name="one_chunk_per_number"
            ),
        ),
        migrations.AddConstraint(
            model_name="offerrunchunk",
            constraint=models.CheckConstraint(
                condition=models.Q(("status__in", ["queued", "running", "done", "failed"])),
                name="chunk_status_known",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerrunchunk",
            constraint=models.CheckConstraint(
                condition=models.Q(("first_customer_id__lte", models.F("last_customer_id"))),
                name="chunk_customers_in_order",
            ),
        ),
        migrations.AddConstraint(
            model_name="offerrunchunk",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "done"), _negated=True),
                    models.Q(("attempts__gte", 1), ("finished_at__isnull", False)),
                    _connector="OR",
                ),
                name="chunk_done_when_finished",
            ),
        ),
        migrations.RunPython(let_groups_start_runs, take_back),
    ]
