"""The staff groups of docs/architecture.md. Permissions are given to groups, never to usernames.

`Offer reviewers` see and review offers (and the runs and products they name), nothing
else: no banking data, no consent ledger. `Privacy officers` publish purpose versions,
read the ledger, see the privacy overview and the Art. 30 record, and the offers for the
funnel. Permissions are created here (post_migrate would only create them after every
migration has run), so a fresh database gets the groups in one `migrate`.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Offer reviewers": {
        "offers": ["view_offer", "review_offer", "view_offerrun", "view_product"],
    },
    "Privacy officers": {
        "consent": [
            "view_purpose",
            "view_purposeversion",
            "add_purposeversion",
            "view_consentevent",
            "view_consentstate",
            "view_privacy_overview",
        ],
        "offers": ["view_offer", "view_offerrun"],
    },
}


def create_groups(apps, schema_editor):
    for label in ("consent", "offers"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, by_app in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = []
        for app_label, codenames in by_app.items():
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename__in=codenames
            )
            missing = set(codenames) - set(found.values_list("codename", flat=True))
            if missing:
                raise RuntimeError(f"permissions missing for {name}: {sorted(missing)}")
            permissions += list(found)
        group.permissions.set(permissions)


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("consent", "0003_version_publisher_and_overview_permission"),
        ("offers", "0003_review_fields"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
