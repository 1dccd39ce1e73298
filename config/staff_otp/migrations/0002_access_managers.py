"""*Access managers*: the staff who let a colleague enrol an authenticator (they issue
activation codes, never for themselves) and delete a lost one. Superusers can too.
Permissions go to the group, never to usernames."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Access managers"
PERMISSIONS = {
    "staff_otp": ["view_activationcode", "add_activationcode"],
    "otp_totp": ["view_totpdevice", "delete_totpdevice"],
}


def create_group(apps, schema_editor):
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name=GROUP)
    permissions = []
    for app_label, codenames in PERMISSIONS.items():
        found = Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        missing = set(codenames) - set(found.values_list("codename", flat=True))
        if missing:
            raise RuntimeError(f"permissions missing for {GROUP}: {sorted(missing)}")
        permissions += list(found)
    group.permissions.set(permissions)


def remove_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("otp_totp", "0003_add_timestamps"),
        ("staff_otp", "0001_activation_codes"),
    ]

    operations = [migrations.RunPython(create_group, remove_group)]
