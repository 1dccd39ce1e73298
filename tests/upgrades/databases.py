"""Databases of their own on the test server, for tests that migrate one as a deployment
does: `manage.py migrate` in another process, with the runtime role's URL and the
owner's (`DATABASE_OWNER_URL`), given to that process alone."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql

from infra.database import Credentials, embedded_url, owner_credentials


def runtime_role() -> str:
    return connection.settings_dict.get("RUNTIME_USER") or connection.settings_dict["USER"]


def url(credentials: Credentials, database: str) -> str:
    """A libpq URL for `database` with these credentials (a socket folder as `host`)."""
    password = quote(str(credentials["PASSWORD"] or ""), safe="")
    user = quote(str(credentials["USER"]), safe="")
    host, port = str(credentials["HOST"] or ""), str(credentials["PORT"] or "")
    if host.startswith("/"):
        query = f"host={quote(host, safe='')}" + (f"&port={port}" if port else "")
        return f"postgresql://{user}:{password}@/{database}?{query}"
    return f"postgresql://{user}:{password}@{host}{':' + port if port else ''}/{database}"


class ScratchDatabase:
    """An empty database named after the test database, owned by the owner role."""

    def __init__(self, suffix: str):
        self.owner = owner_credentials(connection.settings_dict)
        self.name = f"{connection.settings_dict['NAME']}_{suffix}"

    def connect(self, database: str | None = None) -> psycopg.Connection:
        """As the owner (autocommit), to this database or another of the server's."""
        return psycopg.connect(
            host=self.owner["HOST"] or None,
            port=self.owner["PORT"] or None,
            user=self.owner["USER"],
            password=self.owner["PASSWORD"] or None,
            dbname=database or self.name,
            autocommit=True,
        )

    def recreate(self) -> None:
        self.drop()
        with self.connect("postgres") as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.name)))

    def drop(self) -> None:
        with self.connect("postgres") as conn:
            # The processes that used it have exited, but their sessions end on the server
            # a moment later, and the owner may not end another role's session (which
            # FORCE would try, and fail with "permission denied to terminate process").
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and conn.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = %s AND usename <> current_user",
                [self.name],
            ).fetchone() != (0,):
                time.sleep(0.05)
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name))
            )

    def environment(self, **extra: str) -> dict[str, str]:
        """What `manage.py` needs to run on this database as a deployment does."""
        if connection.settings_dict.get("EMBEDDED"):
            runtime = embedded_url(runtime_role(), self.name)
        else:
            settings_dict = connection.settings_dict
            runtime = url(
                {
                    "USER": runtime_role(),
                    "PASSWORD": settings_dict["PASSWORD"],
                    "HOST": settings_dict["HOST"],
                    "PORT": settings_dict["PORT"],
                },
                self.name,
            )
        return {
            **{k: v for k, v in os.environ.items() if "DATABASE" not in k},
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": runtime,
            "DATABASE_OWNER_URL": url(self.owner, self.name),
            **extra,
        }

    def python(self, *arguments: str, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, *arguments],
            cwd=settings.BASE_DIR,
            env=self.environment(**extra),
            capture_output=True,
            text=True,
            check=False,
        )


@contextmanager
def scratch_database(suffix: str) -> Iterator[ScratchDatabase]:
    database = ScratchDatabase(suffix)
    database.recreate()
    try:
        yield database
    finally:
        database.drop()
