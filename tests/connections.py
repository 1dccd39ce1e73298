"""Connections of their own to the test database, for tests that need a second session."""

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
