"""The embedded default creates both roles and the owner's database by itself."""

import os
import subprocess
import sys

import pytest
from django.conf import settings

from config.database import OWNER_ROLE, RUNTIME_ROLE, superuser_connection

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("DATABASE_URL")), reason="with DATABASE_URL there is no embedded server"
    ),
]


def manage(*args, pgdata):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE",)}
    env.update(PGDATA_DIR=str(pgdata), DJANGO_SETTINGS_MODULE="config.settings.dev")
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_fresh_embedded_server_gets_an_owner_a_runtime_role_and_the_database(tmp_path):
    pgdata = tmp_path / "pg"
    try:
        migrated = manage("migrate", "--no-input", "-v", "0", pgdata=pgdata)
        assert migrated.returncode == 0, migrated.stderr
        with superuser_connection(host=str(pgdata)) as conn:
            roles = {
                name: attributes
                for name, *attributes in conn.execute(
                    "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin"
                    " FROM pg_roles WHERE rolname IN (%s, %s)",
                    (OWNER_ROLE, RUNTIME_ROLE),
                ).fetchall()
            }
            assert roles == {
                OWNER_ROLE: [False, True, False, True],
                RUNTIME_ROLE: [False, False, False, True],
            }
            (owner,) = conn.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'consent'"
            ).fetchone()
            assert owner == OWNER_ROLE
        with superuser_connection(host=str(pgdata), database="consent") as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            ).fetchall()
            assert owners == [(OWNER_ROLE,)]
        # A database from before the roles (owned by the superuser, tables too) is handed
        # to the owner by the next command, and migrate works on it again.
        with superuser_connection(host=str(pgdata), database="consent") as conn:
            conn.execute("ALTER TABLE consent_customer OWNER TO postgres")
            conn.execute("ALTER TABLE django_migrations OWNER TO postgres")
            conn.execute("ALTER DATABASE consent OWNER TO postgres")
        again = manage("migrate", "--no-input", "-v", "0", pgdata=pgdata)
        assert again.returncode == 0, again.stderr
        with superuser_connection(host=str(pgdata), database="consent") as conn:
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'"
            ).fetchall()
            assert owners == [(OWNER_ROLE,)]
    finally:
        subprocess.run(
            [
                sys.executable,
                "-c",
                "from config.database import embedded_server; embedded_server().stop()",
            ],
            cwd=settings.BASE_DIR,
            env={**os.environ, "PGDATA_DIR": str(pgdata)},
            check=False,
            capture_output=True,
        )
