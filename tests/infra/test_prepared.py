"""Statements prepared on the server from their second run on a connection
(infra.prepared): the same rows as the text gives, the same meaning for every value, and
never in the way of the caller's transaction or of a page's query count."""

import datetime as dt
import uuid
import zoneinfo

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.dashboard import _card_inputs, _cards_query
from consent.validity import compile_key
from infra.precompiled import Precompiled
from infra.prepared import parameter_type
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory

AMSTERDAM = zoneinfo.ZoneInfo("Europe/Amsterdam")


def fresh(sql: str, *names: str) -> Precompiled:
    """`sql` as a statement no other test ran on this connection (a comment of its own),
    each `%s` filled from the input of that name."""
    return Precompiled(sql=f"/* {uuid.uuid4()} */ {sql}", slots=tuple((n, None) for n in names))


def prepared(statement: Precompiled) -> list[tuple[str, list[str]]]:
    """The prepared statements of this session that run `statement`: (their text, the
    types of their parameters)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement, parameter_types::text[] FROM pg_prepared_statements"
            " WHERE statement LIKE %s",
            ["%" + statement.sql.split("*/")[0] + "%"],
        )
        return cursor.fetchall()


def test_the_dashboards_statement_is_prepared_on_its_second_run_and_reads_the_same(db):
    customer = CustomerFactory()
    choose_on_screen(customer, "offers_spending", at=timezone.now())
    cards = _cards_query(False, compile_key())
    statement = Precompiled(sql=f"/* {uuid.uuid4()} */ {cards.sql}", slots=cards.slots)
    inputs = _card_inputs(customer_id=customer.pk, at=timezone.now(), code=None)

    first = statement.rows(inputs)
    assert prepared(statement) == []
    second = statement.rows(inputs)
    third = statement.rows(inputs)

    assert first == second == third
    assert len(first) > 1
    ((text, types),) = prepared(statement)
    assert text.startswith("PREPARE prepared_")
    assert "timestamp with time zone" in types


def test_a_moment_compared_with_a_day_stays_a_moment_at_midnight(db):
    # 23:30 in Amsterdam on 28 November is 22:30 UTC: the day itself began before that
    # moment, so the day is not on or after it. Read as a day, the moment would be "the
    # 28th", and the day would be on or after it.
    statement = fresh(
        "SELECT count(*) FROM (VALUES ('2026-11-28'::date)) AS v(day) WHERE day >= %s", "at"
    )
    at = dt.datetime(2026, 11, 28, 23, 30, tzinfo=AMSTERDAM)

    counts = [statement.rows({"at": at})[0][0] for _ in range(3)]

    assert counts == [0, 0, 0]
    ((_text, types),) = prepared(statement)
    assert types == ["timestamp with time zone"]


def test_values_of_another_kind_get_a_statement_of_their_own(db):
    statement = fresh("SELECT pg_typeof(%s)::text", "value")
    moment = dt.datetime(2026, 11, 28, 23, 30, tzinfo=AMSTERDAM)
    day = dt.date(2026, 11, 28)

    seen = [statement.rows({"value": value})[0][0] for value in (moment, moment, day, day)]

    assert seen == ["timestamp with time zone"] * 2 + ["date"] * 2
    assert sorted(types for _text, types in prepared(statement)) == [
        ["date"],
        ["timestamp with time zone"],
    ]


def test_values_of_another_kind_with_the_same_types_share_one_statement(db):
    # An empty array and one of NULLs are both written untyped: one statement serves both.
    statement = fresh("SELECT cardinality(%s::int[])", "ids")

    counts = [statement.rows({"ids": ids})[0][0] for ids in ([], [], [None], [None])]

    assert counts == [0, 0, 1, 1]
    assert len(prepared(statement)) == 1


def test_small_then_large_integers_and_arrays_of_them_are_read_alike(db):
    one = fresh("SELECT %s + 1", "n")
    many = fresh("SELECT array_length(%s, 1), (%s)[2]", "ids", "ids")

    assert [one.rows({"n": n})[0][0] for n in (1, 2, 2**40)] == [2, 3, 2**40 + 1]
    assert [many.rows({"ids": ids})[0] for ids in ([1, 2], [1, 2], [1, 2**40])] == [
        (2, 2),
        (2, 2),
        (2, 2**40),
    ]


@pytest.mark.parametrize(
    ("value", "declared"),
    [
        (7, "bigint"),
        (-7, "bigint"),
        (True, "boolean"),
        (None, "unknown"),
        ("text", "unknown"),
        (dt.date(2026, 11, 28), "date"),
        (dt.datetime(2026, 11, 28, 12, tzinfo=dt.UTC), "timestamptz"),
        (dt.datetime(2026, 11, 28, 12), "timestamp"),
        ([1, 2], "bigint[]"),
        ([], "unknown"),
    ],
)
def test_a_parameter_is_declared_with_the_type_of_its_literal(db, value, declared):
    connection.ensure_connection()
    assert parameter_type(value, connection.connection) == declared


def test_a_statement_the_server_cannot_prepare_runs_as_text_inside_the_transaction(db):
    # Nothing decides the type of `$1 IS NULL`: PREPARE refuses it. As text it runs.
    statement = fresh("SELECT %s IS NULL", "value")
    with transaction.atomic():
        answers = [statement.rows({"value": None})[0][0] for _ in range(3)]
        # The refusal aborted nothing: the transaction goes on.
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            assert cursor.fetchone() == (1,)
    assert answers == [True, True, True]
    assert prepared(statement) == []


def test_a_rolled_back_transaction_keeps_the_prepared_statement(db):
    statement = fresh("SELECT %s::int * 2", "n")
    with transaction.atomic():
        statement.rows({"n": 1})
        statement.rows({"n": 2})  # prepared here
        transaction.set_rollback(True)

    assert statement.rows({"n": 3}) == [(6,)]
    assert len(prepared(statement)) == 1


def test_preparing_is_no_query_of_the_page_that_ran_second(db):
    statement = fresh("SELECT %s::int + 40", "n")
    statement.rows({"n": 1})
    with CaptureQueriesContext(connection) as second:
        assert statement.rows({"n": 2}) == [(42,)]
    with CaptureQueriesContext(connection) as third:
        statement.rows({"n": 2})

    assert len(second) == len(third) == 1
    assert second[0]["sql"].startswith("EXECUTE prepared_")


def test_statements_read_together_are_prepared_each(db):
    one, two = fresh("SELECT %s::int", "n"), fresh("SELECT %s::int * 10", "n")
    results = [one.rows_with(two, inputs={"n": n}) for n in (1, 2, 3)]

    assert results == [[[(1,)], [(10,)]], [[(2,)], [(20,)]], [[(3,)], [(30,)]]]
    assert len(prepared(one)) == len(prepared(two)) == 1


def test_switched_off_every_run_is_the_statements_text(db, settings):
    # Behind a pooler in transaction mode (DB_PREPARED_STATEMENTS=false).
    settings.DATABASE_PREPARED_STATEMENTS = False
    statement = fresh("SELECT %s::int + 1", "n")
    with CaptureQueriesContext(connection) as runs:
        answers = [statement.rows({"n": n})[0][0] for n in (1, 2, 3)]

    assert answers == [2, 3, 4]
    assert [run["sql"] for run in runs] == [statement.sql.replace("%s", str(n)) for n in (1, 2, 3)]
    assert prepared(statement) == []
