"""The feed and its read log only ever grow: the runtime role may SELECT and INSERT, and
nobody may TRUNCATE them (infra/dbroles.py)."""

from django.db import migrations

from infra.dbroles import AppendOnly


class Migration(migrations.Migration):
    dependencies = [
        ("api", "0002_privacy_officers_manage_api_clients"),
        ("consent", "0006_runtime_role_grants"),
    ]

    operations = [AppendOnly("ConsentChange"), AppendOnly("FeedRead")]
