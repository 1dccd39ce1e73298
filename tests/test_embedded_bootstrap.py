"""The embedded default creates both roles and the owner's database by itself, and a data
folder made before passwords gets them on its next start."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from infra.database import (
    HBA_MARKER,
    OWNER_ROLE,
    ROLES,
    RUNTIME_ROLE,
    SERVER_SETTINGS,
    apply_server_settings,
    embedded_password,
    passwords_folder,
    pgserver,
    superuser_connection,
)

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


def stop(pgdata):
    embedded_server_in(pgdata, "embedded_server().stop()", check=False)


def start(pgdata):
    embedded_server_in(pgdata, "embedded_server()", check=True)


def embedded_server_in(pgdata, statement, *, check):
    subprocess.run(
        [sys.executable, "-c", f"from infra.database import embedded_server; {statement}"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "PGDATA_DIR": str(pgdata)},
        check=check,
        capture_output=True,
    )


@pytest.fixture
def pgdata():
    """A data folder of its own, outside pytest's temporary folders: run as root, the
    server runs as another system user, which pgserver lets through the folders above
    it, and another pytest run on the machine makes pytest's own folder private again."""
    folder = Path(tempfile.mkdtemp(prefix="consent-test-pgdata-"))
    yield folder / "pg"
    shutil.rmtree(folder, ignore_errors=True)


def test_a_fresh_embedded_server_gets_an_owner_a_runtime_role_and_the_database(pgdata):
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
        stop(pgdata)


def test_a_data_folder_from_before_passwords_gets_them_on_its_next_start(pgdata, tmp_path):
    """A `.pgdata` as the project made it before: its server trusts every role, and the
    roles and the database exist without passwords. The next `migrate` (as `make run`
    starts) gives every role a password, kept in files only the user can read, stops
    trusting, and works; the app then signs in as the runtime role."""
    try:
        pgserver().get_server(pgdata, cleanup_mode=None)
        with psycopg.connect(host=str(pgdata), user="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB")
            conn.execute(f"CREATE ROLE {RUNTIME_ROLE} LOGIN")
            conn.execute(f"CREATE DATABASE consent OWNER {OWNER_ROLE}")
        assert not passwords_folder(pgdata).exists()
        assert not (pgdata / "pg_hba.conf").read_text().startswith(HBA_MARKER)

        migrated = manage("migrate", "--no-input", "-v", "0", pgdata=pgdata)
        assert migrated.returncode == 0, migrated.stderr

        assert (pgdata / "pg_hba.conf").read_text().startswith(HBA_MARKER)
        folder = passwords_folder(pgdata)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for role in ROLES:
            assert stat.S_IMODE((folder / role).stat().st_mode) == 0o600
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(
                    host=str(pgdata),
                    user=role,
                    dbname="consent",
                    passfile=str(tmp_path / "no-pgpass"),
                ).close()
            password = embedded_password(role, pgdata=pgdata)
            with psycopg.connect(
                host=str(pgdata), user=role, password=password, dbname="consent"
            ) as conn:
                assert conn.execute("SELECT current_user").fetchone() == (role,)
        counted = manage(
            "shell", "-c", "from consent.models import Purpose; print(Purpose.objects.count())",
            pgdata=pgdata,
        )  # fmt: skip
        assert counted.returncode == 0, counted.stderr
        assert int(counted.stdout.split()[-1]) > 0
        with superuser_connection(host=str(pgdata), database="consent") as conn:
            tables = conn.execute(
                "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace"
                " AND pg_get_userbyid(relowner) = %s",
                [OWNER_ROLE],
            ).fetchone()[0]
            assert tables > 0
    finally:
        stop(pgdata)


def server_settings(pgdata=None):
    with superuser_connection(host=str(pgdata) if pgdata else None) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0] for name in SERVER_SETTINGS}


def test_the_running_embedded_server_has_the_memory_of_a_production_server(db):
    """The suite's own server (the one `make run` uses too): 1 GB of shared buffers, not
    initdb's 128 MB, so that the engine's window stays in PostgreSQL's buffers."""
    assert server_settings() == SERVER_SETTINGS
    assert SERVER_SETTINGS["shared_buffers"] == "1GB"


def test_a_fresh_embedded_server_starts_again_with_its_memory_settings(pgdata):
    """shared_buffers takes effect at a start only: the first `migrate` on a new data
    folder sets it and, nobody else being connected, restarts the server."""
    try:
        migrated = manage("migrate", "--no-input", "-v", "0", pgdata=pgdata)
        assert migrated.returncode == 0, migrated.stderr
        assert server_settings(pgdata) == SERVER_SETTINGS
        assert "shared_buffers = '1GB'" in (pgdata / "postgresql.auto.conf").read_text()
    finally:
        stop(pgdata)


def test_memory_the_server_has_not_read_yet_still_waits_for_a_restart(pgdata):
    """pg_reload_conf() only signals the server; the backend that asked may answer before
    the signal reaches it, when PostgreSQL's `pending_restart` flag still says nothing
    (a busy CI machine was that slow). The postmaster is paused here, so the signal
    cannot arrive at all: what the server runs with must decide."""
    try:
        start(pgdata)  # a fresh server, initdb's memory: not a bootstrap
        postmaster = int((pgdata / "postmaster.pid").read_text().split()[0])
        with superuser_connection(host=str(pgdata)) as conn:
            os.kill(postmaster, signal.SIGSTOP)
            try:
                waiting = apply_server_settings(conn)
                running = conn.execute("SHOW shared_buffers").fetchone()
            finally:
                os.kill(postmaster, signal.SIGCONT)
        assert waiting == ["shared_buffers"]
        assert running == ("128MB",)
        assert "shared_buffers = '1GB'" in (pgdata / "postgresql.auto.conf").read_text()
    finally:
        stop(pgdata)
