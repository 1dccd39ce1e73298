"""The shared cache's table (production's `default` cache is Django's DatabaseCache), as
`manage.py createcachetable` makes it, made by `migrate` so that a deploy needs nothing
else. Every web host reads and writes the same rows: the API's rate-limit counts are the
same on each. In infra, not in an app: the cache has no domain, anything may use it."""

from django.db import migrations

from infra.dbroles import GrantTable

TABLE = "shared_cache"  # CACHES["default"]["LOCATION"] in config/settings/production.py


class Migration(migrations.Migration):
    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.RunSQL(
            sql=[
                f"""
                CREATE TABLE "{TABLE}" (
                    "cache_key" varchar(255) NOT NULL PRIMARY KEY,
                    "value" text NOT NULL,
                    "expires" timestamp with time zone NOT NULL
                )
                """,
                f'CREATE INDEX "{TABLE}_expires" ON "{TABLE}" ("expires")',
            ],
            reverse_sql=[f'DROP TABLE "{TABLE}"'],
        ),
        GrantTable(TABLE),
    ]
