"""`migrate`, connected as the owner role: the only command that does (issue #10).

Everything else, the web app included, connects as the runtime role, which may not
create, alter or drop anything. See config/database.py.
"""

from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from config.database import as_owner


class Command(migrate.Command):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        if connection.settings_dict.get("OWNER") is None:
            raise CommandError(
                "DATABASE_OWNER_URL is not set: migrate runs as the database owner,"
                " never as the runtime role of DATABASE_URL."
            )
        with as_owner(connection):
            return super().handle(*args, **options)
