"""Who on the staff does what with third parties:

- privacy officers register data users, suspend them and see every permission and read
  (`access.*datauser`, `access.suspend_datauser`, `access.view_permission`,
  `access.view_read`);
- the contact centre (Klantenservice) finds a permission and withdraws it for a customer
  on the phone (`access.view_permission`, `access.withdraw_permission`), never the reads.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Privacy officers": [
        "view_datauser",
        "add_datauser",
        "change_datauser",
        "suspend_datauser",
        "view_permission",
        "view_read",
    ],
    "Klantenservice": ["view_permission", "withdraw_permission"],
}


def _permissions(apps, codenames):
    app_config = apps.get_app_config("access")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    found = list(
        Permission.objects.filter(content_type__app_label="access", codename__in=codenames)
    )
    missing = set(codenames) - {row.codename for row in found}
    if missing:
        raise RuntimeError(f"permissions missing: {sorted(missing)}")
    return found


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GROUPS.items():
        Group.objects.get(name=name).permissions.add(*_permissions(apps, codenames))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name, codenames in GROUPS.items():
        Group.objects.get(name=name).permissions.remove(*_permissions(apps, codenames))


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0001_third_party_access"),
        ("offers", "0009_klantenservice_group"),
        ("offers", "0004_staff_groups"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
