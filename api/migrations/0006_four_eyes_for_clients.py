"""OAuth clients change with four eyes (api/clients.py):

- privacy officers no longer add or change clients directly; they propose
  (`add_clientchange`) and approve each other's proposals (`approve_clientchange`); they
  still see and delete clients;
- the database refuses "skip authorization" (no consent screen) for any client whose
  redirect URIs are not all on the bank's own app scheme. Nothing in the app sets it.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Privacy officers"
GRANTED = {"api": ["view_clientchange", "add_clientchange", "approve_clientchange"]}
WITHDRAWN = {"oauth2_provider": ["add_application", "change_application"]}
APP_SCHEME = "nl.voorbeeldbank.app"
CONSTRAINT = "skip_authorization_only_for_the_banks_app"


def _permissions(apps, by_app):
    for label in by_app:
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    found = []
    for app_label, codenames in by_app.items():
        rows = list(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
        missing = set(codenames) - {row.codename for row in rows}
        if missing:
            raise RuntimeError(f"permissions missing: {sorted(missing)}")
        found += rows
    return found


def four_eyes(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.get(name=GROUP)
    group.permissions.add(*_permissions(apps, GRANTED))
    group.permissions.remove(*_permissions(apps, WITHDRAWN))


def one_pair_of_eyes(apps, schema_editor):
    group = apps.get_model("auth", "Group").objects.get(name=GROUP)
    group.permissions.remove(*_permissions(apps, GRANTED))
    group.permissions.add(*_permissions(apps, WITHDRAWN))


def _table(apps):
    from oauth2_provider.settings import oauth2_settings

    return apps.get_model(oauth2_settings.APPLICATION_MODEL)._meta.db_table


def refuse_skip_authorization(apps, schema_editor):
    scheme = APP_SCHEME.replace(".", r"\.")
    schema_editor.execute(
        f'ALTER TABLE "{_table(apps)}" ADD CONSTRAINT {CONSTRAINT} CHECK ('
        f" NOT skip_authorization OR redirect_uris ~ '^\\s*({scheme}:\\S+\\s*)+$')"
    )


def allow_skip_authorization(apps, schema_editor):
    schema_editor.execute(f'ALTER TABLE "{_table(apps)}" DROP CONSTRAINT {CONSTRAINT}')


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0005_client_changes"),
        ("oauth2_provider", "0022_refreshtoken_token_family_index"),
    ]

    operations = [
        migrations.RunPython(four_eyes, one_pair_of_eyes),
        migrations.RunPython(refuse_skip_authorization, allow_skip_authorization),
    ]
