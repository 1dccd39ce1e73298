"""The shared cache: production's `default` cache is a table every host reads and writes
(infra/migrations/0001_shared_cache.py), made by `migrate`. tests/test_two_hosts.py shows
a rate limit counted across two hosts."""

import io
import json
import re
import subprocess

import pytest
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from infra.database import SHARED_CACHE_TABLE, postgres_tool
from tests.test_settings import PRODUCTION, SETUP, run_python

TWIN = "shared_cache_as_createcachetable_makes_it"


def layout(conn, table) -> tuple[list, list]:
    """The table's columns (name, type, not null) and its indexes, the name left out."""
    columns = conn.execute(
        """
        SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute
         WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum
        """,
        [table],
    ).fetchall()
    indexes = conn.execute(
        "SELECT replace(indexdef, %s, 'T') FROM pg_indexes WHERE tablename = %s ORDER BY 1",
        [table, table],
    ).fetchall()
    return columns, indexes


def test_migrate_makes_the_table_createcachetable_would(db, owner_connection):
    out = io.StringIO()
    twin = {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": TWIN}
    with override_settings(CACHES={"default": twin}):
        call_command("createcachetable", dry_run=True, stdout=out)
    with owner_connection.transaction(force_rollback=True):
        owner_connection.execute(out.getvalue())
        assert layout(owner_connection, SHARED_CACHE_TABLE) == layout(owner_connection, TWIN)


def test_the_runtime_role_reads_and_writes_the_table_but_may_not_empty_it(db):
    role = connection.settings_dict["RUNTIME_USER"]
    granted = {}
    with connection.cursor() as cursor:
        for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
            cursor.execute(
                "SELECT has_table_privilege(%s, %s, %s)", [role, SHARED_CACHE_TABLE, privilege]
            )
            granted[privilege] = cursor.fetchone()[0]
    assert granted == {
        "SELECT": True,
        "INSERT": True,
        "UPDATE": True,
        "DELETE": True,
        "TRUNCATE": False,
    }


@pytest.mark.django_db(transaction=True)
def test_counts_written_through_one_cache_are_read_through_another():
    """What two processes do: each its own cache object, one table."""
    one, other = (DatabaseCache(SHARED_CACHE_TABLE, {}) for _ in range(2))
    one.set("throttle_choose_1-2", [3.0, 2.0, 1.0], 60)
    assert other.get("throttle_choose_1-2") == [3.0, 2.0, 1.0]
    other.delete("throttle_choose_1-2")
    assert one.get("throttle_choose_1-2") is None


def test_production_shares_the_default_cache():
    shown = run_python(SETUP + "import json; print(json.dumps(s.CACHES))", **PRODUCTION)
    assert shown.returncode == 0, shown.stderr
    caches_ = json.loads(shown.stdout.strip().splitlines()[-1])
    assert caches_["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert caches_["default"]["LOCATION"] == SHARED_CACHE_TABLE
    assert set(caches_) == {"default"}  # nothing else is kept per process


@pytest.mark.django_db(transaction=True)
def test_a_backup_keeps_the_table_without_its_rows(tmp_path):
    """Rate-limit counts of the last minute: a restore must not bring them back."""
    DatabaseCache(SHARED_CACHE_TABLE, {}).set("throttle_choose_1-2", [1.0], 60)
    call_command("backup", "--into", str(tmp_path), stdout=io.StringIO())
    (dump,) = tmp_path.glob("backup-*/database.dump")
    listed = subprocess.run(
        [str(postgres_tool("pg_restore")), "--list", str(dump)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert re.search(rf"TABLE public {SHARED_CACHE_TABLE} ", listed), listed
    assert not re.search(rf"TABLE DATA public {SHARED_CACHE_TABLE} ", listed)
    assert re.search(r"TABLE DATA public django_session ", listed)  # other tables' rows are in
