"""Statements PostgreSQL plans once per connection instead of on every request.

The server plans a statement each time it receives its text. For the pages' statements
that is most of the server's work: the dashboard's one statement took 1.0 ms to plan and
0.3 ms to run (`EXPLAIN (ANALYZE, SUMMARY)`, quiet machine; 2.2 ms to plan under load),
a choice's statements 2.3 ms to plan in all (issue #24). Connections live in the pool
for many requests (`config/settings/production.py`), so `statement_text` has a statement
run as it is the first time a connection sees it, and from the second time on as
`EXECUTE` of a statement prepared on that connection: planned there once (PostgreSQL's
plan cache then keeps a generic plan when it is as good as the custom ones).

**The same meaning, by construction.** Django binds values on the client: a value is
sent as a literal, typed by psycopg (`'…'::timestamptz`, `'…'::date`, `true`) or untyped
(`'text'`, `NULL`), and PostgreSQL resolves an untyped one from where it stands. The
prepared statement declares each parameter with the type its literal has, and `unknown`
for an untyped one, which PostgreSQL resolves by the same rules. So a moment compared with
a date column is still compared as a moment, never cut to a day. An integer (typed
`integer` or `bigint` by its size) and an integer array (typed by its largest element)
are declared `bigint` and `bigint[]`: the same comparisons for any value a later request
brings. Values of other kinds (a moment where a date was, a value where NULL was) get a
statement of their own, unless one with the same declared types is prepared already: the
kinds of the values are part of what is prepared.

**Never in the way.** A statement PostgreSQL cannot prepare (a parameter whose type
nothing decides, as in `SELECT %s IS NULL`) is run as text from then on; inside a
transaction the attempt is made in a savepoint, so it cannot abort the caller's work.
Prepared statements belong to the server session, not to a transaction: a rollback keeps
them. A session that ends takes them along, and its connection object with it.

**Where it must be off.** Behind a pooler that runs one client connection's statements
on several server sessions (PgBouncer in transaction mode), a statement prepared on one
session is unknown to the next: `DB_PREPARED_STATEMENTS=false` runs every statement as
text (`DATABASE_PREPARED_STATEMENTS`). Django's own pool keeps a connection on one
session, as does a direct connection.
"""

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from typing import Any

import psycopg
from django.conf import settings
from psycopg.adapt import Transformer

# The attribute of a psycopg connection that holds, per (statement text, kinds of its
# values), the text to send for it from now on (None: seen once, not yet prepared). A
# connection is used by one thread at a time.
_KNOWN = "_consent_prepared"
_NEW = object()

_PLACEHOLDER = re.compile(r"%([%s])")
_INTEGER = re.compile(r"\s*-?\d+")
_DECIMAL = re.compile(r"\s*-?(\d*\.\d+(e-?\d+)?|\d+e-?\d+)", re.IGNORECASE)
_CAST = re.compile(r"'::([a-z0-9_ ]+(\[\])?)$")
_INTEGER_ARRAYS = {"int2[]", "int4[]", "int8[]"}


def execute(cursor, sql: str, params: list[Any]) -> None:
    """`cursor.execute(sql, params)` (a Django cursor), prepared on its connection from
    the second time that connection runs the same text with values of the same kinds."""
    cursor.execute(statement_text(cursor, sql, params), params)


def statement_text(cursor, sql: str, params: list[Any]) -> str:
    """What to send for `sql` with `params` now: `sql` itself, or the `EXECUTE` of it,
    with the same placeholders for the same values. Counts as a run (for a text of
    several statements, each one's text)."""
    if not settings.DATABASE_PREPARED_STATEMENTS:
        return sql
    connection = cursor.db.connection  # psycopg's, under Django's wrapper
    known = getattr(connection, _KNOWN, None)
    if known is None:
        known = {}
        setattr(connection, _KNOWN, known)
    key = (sql, *map(_kind, params))
    text = known.get(key, _NEW)
    if text is _NEW:
        known[key] = None  # the first time: as it is
        return sql
    if text is None:
        text = known[key] = _prepared(cursor, sql, params, known=known.values())
    return text


def _kind(value: Any) -> Any:
    # What decides a value's literal type, cheaply: its class, whether a moment has a
    # time zone, and an array's element class.
    if isinstance(value, dt.datetime):
        return (dt.datetime, value.tzinfo is None)
    if isinstance(value, list | tuple):
        return (list, type(value[0]) if value else None)
    return type(value)


def _prepared(cursor, sql: str, params: list[Any], *, known: Iterable[str | None]) -> str:
    """PREPARE `sql` on the cursor's connection; the text that runs it (`sql` itself when
    the server refuses to prepare it).

    Sent on psycopg's connection, past Django's cursor: a statement prepared once per
    connection is no query of the page that happened to run it second (the tests count
    a page's queries, and the count must not depend on which test ran first)."""
    connection = cursor.db.connection
    types = [parameter_type(value, connection) for value in params]
    name = "prepared_" + hashlib.sha256("\0".join([sql, *types]).encode()).hexdigest()[:24]
    numbered = iter(range(1, len(params) + 1))
    body = _PLACEHOLDER.sub(lambda m: "%" if m[1] == "%" else f"${next(numbered)}", sql)
    declared = f" ({', '.join(types)})" if types else ""
    prepare = f"PREPARE {name}{declared} AS {body}"
    run = f"EXECUTE {name}" + (f"({', '.join(['%s'] * len(params))})" if params else "")
    if run in known:
        return run  # values of another kind, with the same types: prepared already
    try:
        if connection.autocommit:
            connection.execute(prepare)
        else:
            # In the caller's transaction: a refusal must not abort it.
            connection.execute("SAVEPOINT preparing")
            try:
                connection.execute(prepare)
            except psycopg.Error:
                connection.execute("ROLLBACK TO SAVEPOINT preparing")
                raise
            finally:
                connection.execute("RELEASE SAVEPOINT preparing")
    except psycopg.Error:
        return sql
    return run


def parameter_type(value: Any, connection) -> str:
    """The type PostgreSQL gives `value` as psycopg writes it into a statement's text
    (`unknown` when untyped), integers widened as the module says."""
    literal = Transformer(connection).as_literal(value).decode()
    if _INTEGER.fullmatch(literal):
        return "bigint" if abs(int(literal)) < 2**63 else "numeric"
    if _DECIMAL.fullmatch(literal):
        return "numeric"
    if literal in ("true", "false"):
        return "boolean"
    cast = _CAST.search(literal)
    if cast is None:
        return "unknown"  # NULL, a string, an empty array: resolved where it stands
    return "bigint[]" if cast[1] in _INTEGER_ARRAYS else cast[1]
