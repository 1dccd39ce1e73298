"""Who holds which database credentials.

- The web app, the workers and the scheduled jobs hold the runtime role's only: settings
  never carry the owner's, which `migrate` reads itself (`DATABASE_OWNER_URL`, or the
  embedded server's owner password file), and `bin/serve` hands the web processes an
  environment without them.
- The embedded PostgreSQL trusts nobody: every role signs in with its password, kept in
  a file only the user can read.
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from infra.database import (
    HBA_MARKER,
    OWNER_ROLE,
    PASSWORDS,
    PGDATA,
    ROLES,
    RUNTIME_ROLE,
    SUPERUSER,
    embedded_password,
    embedded_url,
)
from tests.test_faults import production_server  # noqa: F401 - a fixture

EMBEDDED = pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")), reason="with DATABASE_URL there is no embedded server"
)
OWNER_PASSWORD = "owner-secret-do-not-leak-7Qz"
OWNER_USER = "bank_schema_owner"
RUNTIME_URL = "postgres://consent_app:runtime-secret-3Kp@db.bank.example:5432/consent"
OWNER_URL = f"postgres://{OWNER_USER}:{OWNER_PASSWORD}@db.bank.example:5432/consent"


def python(code: str, **env) -> subprocess.CompletedProcess:
    unset = ("DJANGO_SETTINGS_MODULE", "DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    environment = {k: v for k, v in os.environ.items() if k not in unset and "DATABASE" not in k}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *code],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-test-secret-" + "k" * 40,
    # A web host has the ledger's chain key, or it refuses to start (ledger/keys.py).
    "LEDGER_HMAC_KEY": "a-chain-key-for-this-test",
}

# What a web process (the WSGI application) and a worker (`db_worker`'s command) load.
DUMP_SETTINGS = """
import django
django.setup()
import config.wsgi
from django.core.management import load_command_class
load_command_class("django_tasks_db", "db_worker")
from django.conf import settings
from django.db import connections
print(repr({name: getattr(settings, name) for name in dir(settings) if name.isupper()}))
print(repr(connections["default"].settings_dict))
"""


def test_the_settings_of_web_and_worker_processes_hold_no_owner_credentials():
    """Production settings, both URLs in the environment (a careless deployment): the
    settings name the runtime role and nothing of the owner."""
    loaded = python(
        ["-c", DUMP_SETTINGS], DATABASE_URL=RUNTIME_URL, DATABASE_OWNER_URL=OWNER_URL, **PRODUCTION
    )
    assert loaded.returncode == 0, loaded.stderr
    assert "runtime-secret-3Kp" in loaded.stdout  # the dump is the real one
    assert OWNER_PASSWORD not in loaded.stdout
    assert OWNER_USER not in loaded.stdout


def test_migrate_without_the_owner_url_stops_with_a_clear_error(db):
    runtime = embedded_url(RUNTIME_ROLE, connection.settings_dict["NAME"])
    result = python(["manage.py", "migrate", "--no-input"], DATABASE_URL=runtime, **PRODUCTION)
    assert result.returncode != 0
    assert "DATABASE_OWNER_URL is not set" in result.stderr
    assert "Traceback" not in result.stderr


@EMBEDDED
@pytest.mark.slow
def test_migrate_reads_the_owner_url_itself_and_migrates_as_the_owner(owner_connection):
    """A fresh database, migrated through `DATABASE_OWNER_URL` under production settings:
    every table belongs to the owner, and the runtime role was granted its rights."""
    database = "consent_migrate_as_owner"
    owner_connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    owner_connection.execute(f"CREATE DATABASE {database}")
    try:
        result = python(
            ["manage.py", "migrate", "--no-input", "-v", "0"],
            DATABASE_URL=embedded_url(RUNTIME_ROLE, database),
            DATABASE_OWNER_URL=embedded_url(OWNER_ROLE, database),
            **PRODUCTION,
        )
        assert result.returncode == 0, result.stderr
        with psycopg.connect(
            host=str(PGDATA), user=OWNER_ROLE, password=embedded_password(OWNER_ROLE),
            dbname=database,
        ) as conn:  # fmt: skip
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(relowner) FROM pg_class"
                " WHERE relnamespace = 'public'::regnamespace"
            ).fetchall()
            assert owners == [(OWNER_ROLE,)]
            (may_read,) = conn.execute(
                "SELECT has_table_privilege(%s, 'consent_customer', 'SELECT')", [RUNTIME_ROLE]
            ).fetchone()
            assert may_read
    finally:
        owner_connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


@EMBEDDED
def test_the_web_processes_of_bin_serve_get_no_owner_credentials(production_server):  # noqa: F811
    """`bin/serve` migrates with `DATABASE_OWNER_URL`, then starts gunicorn without it."""
    if not Path("/proc/self/environ").exists():
        pytest.skip("needs /proc")
    bind = f"BIND=127.0.0.1:{production_server}".encode()
    environments = []
    for entry in Path("/proc").iterdir():
        try:
            environment = (entry / "environ").read_bytes().split(b"\0")
        except (OSError, ValueError):
            continue
        if bind in environment:
            environments.append(environment)
    assert environments, "no process of bin/serve found"
    for environment in environments:
        assert not [v for v in environment if v.startswith(b"DATABASE_OWNER_URL=")]
        assert owner_password_bytes() not in b"\0".join(environment)


def owner_password_bytes() -> bytes:
    return embedded_password(OWNER_ROLE).encode()


# --- The embedded server asks every role for its password ------------------------------------
def connect(role, password, database, *, passfile):
    return psycopg.connect(
        host=str(PGDATA),
        user=role,
        password=password,
        dbname=database,
        passfile=passfile,  # none: nothing from a ~/.pgpass
        connect_timeout=10,
    )


@EMBEDDED
@pytest.mark.parametrize("role", [OWNER_ROLE, RUNTIME_ROLE, SUPERUSER])
def test_no_role_gets_in_without_its_password(db, role, monkeypatch, tmp_path):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    database, passfile = connection.settings_dict["NAME"], str(tmp_path / "no-pgpass")
    with pytest.raises(psycopg.OperationalError, match="password"):
        connect(role, None, database, passfile=passfile)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(role, "not-the-password", database, passfile=passfile)
    other = {OWNER_ROLE: RUNTIME_ROLE, RUNTIME_ROLE: OWNER_ROLE, SUPERUSER: OWNER_ROLE}[role]
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        connect(role, embedded_password(other), database, passfile=passfile)
    with connect(role, embedded_password(role), database, passfile=passfile) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (role,)


@EMBEDDED
def test_the_passwords_are_in_files_only_the_user_can_read(db):
    assert stat.S_IMODE(PASSWORDS.stat().st_mode) == 0o700
    for role in ROLES:
        path = PASSWORDS / role
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert len(path.read_text().strip()) >= 32
    assert len({embedded_password(role) for role in ROLES}) == len(ROLES)
    hba = (PGDATA / "pg_hba.conf").read_text()
    assert hba.startswith(HBA_MARKER)
    rules = [line.split() for line in hba.splitlines() if line and not line.startswith("#")]
    assert rules == [["local", "all", "all", "scram-sha-256"]]
