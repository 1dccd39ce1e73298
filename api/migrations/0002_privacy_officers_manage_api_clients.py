"""Privacy officers register the bank's systems and the app as OAuth clients, revoke
tokens (the admin's revoke action) and read the feed and its read log. Permissions are given to
the existing group (created by offers' staff-groups migration), never to usernames."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = {
    "oauth2_provider": [
        "view_application",
        "add_application",
        "change_application",
        "delete_application",
        # Tokens are revoked with the admin's "revoke" action (a raw delete would leave a
        # refresh token behind; django-oauth-toolkit's admin allows none).
        "view_accesstoken",
        "view_refreshtoken",
    ],
    "api": ["view_consentchange", "view_feedread"],
}
GROUP = "Privacy officers"


def _permissions(apps):
    for label in PERMISSIONS:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    found = []
    for app_label, codenames in PERMISSIONS.items():
        rows = list(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
        missing = set(codenames) - {row.codename for row in rows}
        if missing:
            raise RuntimeError(f"permissions missing: {sorted(missing)}")
        found += rows
    return found


def grant(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.get(name=GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.get(name=GROUP)
    group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0001_consent_change_feed"),
        ("offers", "0004_staff_groups"),
        ("oauth2_provider", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
