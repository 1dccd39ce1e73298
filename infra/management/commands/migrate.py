"""`migrate`, connected as the owner role: the only command that does.

Everything else, the web app included, connects as the runtime role, which may not
create, alter or drop anything, and never loads the owner's credentials: this command
reads them itself, when it runs (`infra.database.owner_credentials`: the embedded
server's owner password file, or `DATABASE_OWNER_URL`).
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import CommandError
from django.core.management.commands import migrate
from django.db import connections

from infra.database import as_owner
from infra.dbroles import PIN_SEARCH_PATHS


class Command(migrate.Command):
    def handle(self, *args, **options):
        connection = connections[options["database"]]
        try:
            with as_owner(connection):
                result = super().handle(*args, **options)
                # Whatever the migrations created (pgtrigger re-creates its functions
                # without one): every function gets its pinned search path.
                with connection.cursor() as cursor:
                    cursor.execute(PIN_SEARCH_PATHS)
                return result
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
