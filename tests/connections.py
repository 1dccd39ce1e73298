"""Connections of their own to the test database, for tests that need a second session."""

import time

import psycopg
from django.db import connection


def runtime_connection(**options) -> psycopg.Connection:
    """As the runtime role, with the app's own credentials (on the embedded server, the
    password from its file), on a session of its own."""
    params = connection.get_connection_params()
    return psycopg.connect(
        host=params.get("host"),
        port=params.get("port"),
        user=params["user"],
        password=params.get("password"),
        dbname=params["dbname"],
        **options,
    )


def close_and_wait(session: psycopg.Connection, *, seconds: float = 30) -> None:
    """Close `session` as a process that dies would, and wait until the server has ended
    its backend (its locks are released then, not at the client's close)."""
    (pid,) = session.execute("SELECT pg_backend_pid()").fetchone() or (None,)
    session.close()
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_locks is read live, unlike pg_stat_activity within a transaction.
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s", [pid])
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.01)
    raise AssertionError(f"the server never ended backend {pid}")
