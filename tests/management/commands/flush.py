"""Tests only: transactional tests (live_server, threads) empty the database with `flush`.

The runtime role may not TRUNCATE, and nobody may truncate the append-only tables. So the
test flush runs as the owner, who lifts the TRUNCATE guards inside its own transaction
(an owner may always alter its tables; production has no such command: there, `flush`
runs as the runtime role and is refused).
"""

from django.core.management.commands import flush
from django.db import connections, transaction

from infra.database import as_owner
from infra.dbroles import TRUNCATE_TRIGGER

# How many flushes ran; tests/conftest.py restores the catalogues only after one.
FLUSHES = []


class Command(flush.Command):
    def handle(self, **options):
        connection = connections[options["database"]]
        with as_owner(connection), transaction.atomic(using=connection.alias):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname = %s",
                    [TRUNCATE_TRIGGER],
                )
                guarded = [table for (table,) in cursor.fetchall()]
                for table in guarded:
                    cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {TRUNCATE_TRIGGER}")
            super().handle(**options)
            with connection.cursor() as cursor:
                for table in guarded:
                    cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {TRUNCATE_TRIGGER}")
        FLUSHES.append(options["database"])
