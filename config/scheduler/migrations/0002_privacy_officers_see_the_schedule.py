"""*Privacy officers* see the schedule's runs (read-only): the jobs keep promises they
answer for (retention as the notices state it, the ledger's checkpoints, the feed's
derived changes). Superusers see them too. Permissions go to the group, never to
usernames."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Privacy officers"
CODENAME = "view_scheduledrun"


def let_officers_see_runs(apps, schema_editor):
    app_config = apps.get_app_config("scheduler")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.get(content_type__app_label="scheduler", codename=CODENAME)
    group, _ = apps.get_model("auth", "Group").objects.get_or_create(name=GROUP)
    group.permissions.add(view)


def take_back(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(content_type__app_label="scheduler", codename=CODENAME)
    for group in apps.get_model("auth", "Group").objects.filter(name=GROUP):
        group.permissions.remove(*view)


class Migration(migrations.Migration):
    dependencies = [
        ("scheduler", "0001_scheduled_runs"),
        ("offers", "0004_staff_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(let_officers_see_runs, take_back)]
