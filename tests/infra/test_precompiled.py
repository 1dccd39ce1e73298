"""The driver keeps the conversion of our long statements (infra.precompiled): the
dashboard's statement is converted once per process, not on every request."""

from django.db import connection
from django.utils import timezone
from psycopg import _queries

from consent.dashboard import _card_inputs, _cards_query
from consent.validity import compile_key
from infra.precompiled import LONGEST_STATEMENT_KEPT


def test_the_dashboards_statement_is_longer_than_the_drivers_own_bound(db):
    statement = _cards_query(False, compile_key())
    assert 4096 < len(statement.sql) <= LONGEST_STATEMENT_KEPT


def test_a_long_statement_is_converted_once_and_then_reused(db):
    statement = _cards_query(False, compile_key())
    inputs = _card_inputs(customer_id=-1, at=timezone.now(), code=None)
    connection.ensure_connection()
    statement.rows(inputs)  # converted (or already, by another test)
    before = _queries._query2pg_client.cache_info()
    for _ in range(3):
        statement.rows(inputs)
    after = _queries._query2pg_client.cache_info()
    assert after.hits - before.hits == 3
    assert after.misses == before.misses
