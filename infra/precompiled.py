"""A queryset's SQL, compiled once per process; each use only fills in the values.

Building and compiling the dashboard's queryset (the validity annotation: subqueries and
a CASE over every condition of `consent.validity`) costs the web process more CPU than
PostgreSQL spends running it. Its SQL text depends only on the queryset's shape, never
on the values in it (which customer, which moment), so it is compiled once and every
request only computes its parameters. The ORM queryset stays the one definition.

Its share (issue #24, `python -m bench.cpu`, the same database back to back): the
dashboard 4.5 ms with it, 7.5 ms with the same queries compiled by the ORM on every
request; a choice 9.7 ms against 13.9 ms. The login backend's row loading alone is about
0.3 ms of each.

How a parameter is found: the queryset is compiled for two samples of its inputs that
differ in every value. A parameter that is the same in both is a constant of the query;
one that differs must be exactly one of the named inputs in both samples, and is filled
in from that input. Anything else (the same SQL text not coming out twice, a value that
varies but is not a named input) refuses to compile, loudly: it would freeze a value
that must change, so the caller has to name it first.
"""

import datetime as dt
import functools
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import ModelIterable, ValuesListIterable, get_related_populators
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from .prepared import statement_text

Inputs = Mapping[str, Any]


class NotPrecompilable(Exception):
    """The queryset's SQL depends on something other than its named inputs."""


@dataclass(frozen=True)
class Precompiled:
    sql: str
    # For each parameter: (name of the input, None) or (None, the constant value).
    slots: tuple[tuple[str | None, Any], ...]

    def params(self, inputs: Inputs) -> list:
        return [inputs[name] if name is not None else value for name, value in self.slots]

    def rows(self, inputs: Inputs) -> list[Any]:
        """Its rows, run with these inputs (prepared on the connection from the second
        run on it: `infra.prepared`)."""
        params = self.params(inputs)
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(statement_text(cursor, self.sql, params), params)
            return cursor.fetchall()

    def rows_with(self, *others: "Precompiled", inputs: Inputs) -> list[list[Any]]:
        """`rows` of this statement and of `others`, with the same inputs, in one round
        trip: one text, the statements separated by semicolons (Django binds values on
        the client, so psycopg sends it as one simple query), each result in turn. A
        statement costs the web process about as much CPU as its rows (issue #24)."""
        statements = (self, *others)
        each = [statement.params(inputs) for statement in statements]
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            texts = [
                statement_text(cursor, statement.sql, params)
                for statement, params in zip(statements, each, strict=True)
            ]
            cursor.execute(";\n".join(texts), [param for params in each for param in params])
            results = [cursor.fetchall()]
            for _other in others:
                cursor.nextset()
                results.append(cursor.fetchall())
        return results


def read_together[Item](
    read: Callable[[], list[list[Any]]],
) -> Callable[[int, Callable[[list[Any]], Iterable[Item]]], Iterator[Item]]:
    """Sections (of an export) whose rows one round trip reads (`rows_with`): `read` runs
    when the first section is iterated, not before (an export streams its sections in
    turn), and once; `section(n, items)` yields `items` of the n-th statement's rows."""
    results: list[list[list[Any]]] = []

    def section(n: int, items: Callable[[list[Any]], Iterable[Item]]) -> Iterator[Item]:
        if not results:
            results.append(read())
        yield from items(results[0][n])

    return section


def _same(a, b) -> bool:
    # Strict: True == 1 and a date never equals a datetime, but a type must match too.
    return type(a) is type(b) and a == b


def precompile(build: Callable[[Inputs], QuerySet], samples: tuple[Inputs, Inputs]) -> Precompiled:
    """Compile `build(inputs)` once. `samples`: two complete sets of inputs, every value
    different between the two (and from each other's names' values)."""
    first, second = samples
    if first.keys() != second.keys():
        raise NotPrecompilable("both samples must name the same inputs")
    for name in first:
        if _same(first[name], second[name]):
            raise NotPrecompilable(f"the samples must differ in {name!r}")
    sql, params = build(first).query.sql_with_params()
    other_sql, other_params = build(second).query.sql_with_params()
    if sql != other_sql or len(params) != len(other_params):
        raise NotPrecompilable("the SQL text depends on the values")
    slots: list[tuple[str | None, Any]] = []
    for position, (a, b) in enumerate(zip(params, other_params, strict=True)):
        if _same(a, b):
            if any(_same(a, value) for value in (*first.values(), *second.values())):
                raise NotPrecompilable(f"parameter {position} ({a!r}) may be an input")
            slots.append((None, a))
            continue
        names = [name for name in first if _same(first[name], a) and _same(second[name], b)]
        if len(names) != 1:
            raise NotPrecompilable(
                f"parameter {position} ({a!r}, then {b!r}) is not exactly one named input"
            )
        slots.append((names[0], None))
    return Precompiled(sql=sql, slots=tuple(slots))


# The samples of a query whose one input is a customer's id (no customer's id is negative).
CUSTOMER_SAMPLES: tuple[Inputs, Inputs] = ({"customer_id": -7_000_001}, {"customer_id": -7_000_002})


def sample_moments() -> tuple[dt.datetime, dt.datetime]:
    """Two moments that differ in every part (year, month, day, hour, minute, second,
    microsecond, and summer and winter time in Amsterdam), so that any value derived
    from a moment differs between them."""
    return (
        dt.datetime(2031, 1, 14, 22, 37, 11, 123456, tzinfo=dt.UTC),
        dt.datetime(2043, 7, 23, 5, 12, 49, 654321, tzinfo=dt.UTC),
    )


# --- Rows to model instances ------------------------------------------------------------------
def columns(model: type[Model], alias: str) -> str:
    """Every concrete column of `model` from table alias `alias`, in the order `instance`
    reads them."""
    return ", ".join(f'{alias}."{field.column}"' for field in model._meta.concrete_fields)


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


@functools.cache
def _fields(model: type[Model]) -> tuple[list[str], list]:
    connection = connections[DEFAULT_DB_ALIAS]
    converters = []
    for position, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if functions:
            converters.append((position, field, functions))
    return [field.attname for field in model._meta.concrete_fields], converters


def instance[M: Model](model: type[M], values: Sequence[Any]) -> M | None:
    """A model instance from the values of `columns(model, …)`, as the ORM makes it (its
    converters applied); None for the empty side of an outer join (no primary key)."""
    if values[0] is None:
        return None
    attnames, converters = _fields(model)
    if converters:
        values = list(values)
        connection = connections[DEFAULT_DB_ALIAS]
        for position, field, functions in converters:
            for convert in functions:
                values[position] = convert(values[position], field, connection)
    if pre_init.receivers or post_init.receivers or not _plain(model):
        return model.from_db(DEFAULT_DB_ALIAS, attnames, values)
    # What `from_db` ends up with for a plain model, without `Model.__init__`'s work per
    # field (a dashboard makes some thirty instances per request): its state, and each
    # value in the instance's dict, where `__init__`'s setattr puts it.
    new = object.__new__(model)
    state = new._state = ModelState()
    state.adding, state.db = False, DEFAULT_DB_ALIAS
    new.__dict__.update(zip(attnames, values, strict=True))
    return new


@functools.cache
def _plain(model: type[Model]) -> bool:
    """Whether `instance` may fill the instance's dict itself: the model has Django's own
    `__init__` and `from_db`, and every field's attribute is one whose setattr on a new
    instance only stores the value (no signal receivers: checked on each call)."""
    own = inspect.getattr_static(model, "from_db") is inspect.getattr_static(Model, "from_db")
    if model.__init__ is not Model.__init__ or not own:
        return False
    return all(
        type(inspect.getattr_static(model, field.attname, None))
        in (DeferredAttribute, ForeignKeyDeferredAttribute)
        for field in model._meta.concrete_fields
    )


# --- The driver's cache of converted statements -------------------------------------------------
# psycopg turns a statement's text into what it sends (Django binds values on the client:
# the placeholders are found with a regular expression and the values merged in) on every
# execute, and keeps the result per text, but only for texts up to
# `MAX_CACHED_STATEMENT_LENGTH` characters (4,096). The statements compiled here are
# longer (the dashboard's about 5,500), so each execute converted its text anew: 0.2 to
# 0.4 ms of CPU a request (issue #24, measured on the dashboard's statement). Texts up to
# this length are kept; the cache holds 128 texts at most (psycopg's own bound).
LONGEST_STATEMENT_KEPT = 32_768


def keep_long_statements_converted() -> None:
    """Called once, when the apps are ready (`infra.apps`)."""
    from psycopg import _queries

    # The name is psycopg's (psycopg/_queries.py); tests/infra/test_precompiled.py checks
    # that a long statement is converted once, so a rename cannot go unnoticed.
    if not hasattr(_queries, "MAX_CACHED_STATEMENT_LENGTH"):
        raise RuntimeError(
            "psycopg no longer has MAX_CACHED_STATEMENT_LENGTH: see infra.precompiled"
        )
    _queries.MAX_CACHED_STATEMENT_LENGTH = max(
        _queries.MAX_CACHED_STATEMENT_LENGTH, LONGEST_STATEMENT_KEPT
    )


# --- A queryset compiled once, read as the ORM reads it ------------------------------------------
@dataclass(frozen=True)
class PrecompiledQuerySet:
    """`precompile`'s SQL, with what the ORM's compiler knows about its rows: the columns'
    converters and, for a queryset of model instances, which columns make which instance
    (`select_related` included) and which are annotations. So a read gives what iterating
    the queryset gives (`instances`: what `ModelIterable` makes, then its
    `prefetch_related`; `rows` and `iterator`: a `values_list`'s tuples), without building
    and compiling the queryset: the ORM's compiler was about a third of an export's CPU
    and 0.2 to 0.3 ms per query of the history's (issue #24). Made by `precompile_queryset`."""

    query: Precompiled
    model: type[Model] | None  # None: a values_list queryset (tuples)
    select: tuple  # the compiler's `select`, `klass_info` and `annotation_col_map`
    klass_info: Any
    annotations: tuple[tuple[str, int], ...]
    converters: tuple[tuple[int, tuple[Callable, ...], Any], ...]  # (column, functions, expr)
    prefetch: tuple  # the queryset's prefetch_related lookups
    fetch_mode: Any
    # Columns the SQL selects only to order by (DISTINCT): the ORM cuts rows to this many.
    width: int | None

    def _converted(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        # `SQLCompiler.apply_converters`, with this thread's connection.
        if self.width is not None:
            rows = [row[: self.width] for row in rows]
        if not self.converters:
            yield from rows
            return
        connection = connections[DEFAULT_DB_ALIAS]
        for row in map(list, rows):
            for position, functions, expression in self.converters:
                value = row[position]
                for convert in functions:
                    value = convert(value, expression, connection)
                row[position] = value
            yield row

    def rows(self, inputs: Inputs) -> list[tuple]:
        """A values_list queryset's tuples."""
        assert self.model is None, "a queryset of instances: use instances()"
        return [tuple(row) for row in self._converted(self.query.rows(inputs))]

    def iterator(self, inputs: Inputs, *, chunk_size: int) -> Iterator[tuple]:
        """`rows`, as `QuerySet.iterator(chunk_size=…)` reads them: from a server-side
        cursor (`chunked_cursor`), `chunk_size` rows at a time, never all in memory."""
        assert self.model is None, "a queryset of instances: use instances()"
        with connections[DEFAULT_DB_ALIAS].chunked_cursor() as cursor:
            cursor.execute(self.query.sql, self.query.params(inputs))
            while chunk := cursor.fetchmany(chunk_size):
                yield from map(tuple, self._converted(chunk))

    def rows_with(self, *others: "PrecompiledQuerySet", inputs: Inputs) -> list[list[tuple]]:
        """`rows` of this values_list queryset and of `others` (`Precompiled.rows_with`:
        one round trip)."""
        queries = (self, *others)
        assert all(query.model is None for query in queries), "values_list querysets only"
        results = self.query.rows_with(*(other.query for other in others), inputs=inputs)
        return [
            [tuple(row) for row in query._converted(rows)]
            for query, rows in zip(queries, results, strict=True)
        ]

    def instances(self, inputs: Inputs) -> list[Any]:
        """The model instances `ModelIterable` makes of the same rows, each related
        instance of `select_related` set as it sets it, then `prefetch_related` done by
        the ORM (its own queries, only when there is anything)."""
        return self.instances_of(self.query.rows(inputs))

    def instances_of(self, rows: list[Any]) -> list[Any]:
        """`instances`, of its query's rows read already (`Precompiled.rows_with`)."""
        assert self.model is not None, "a values_list queryset: use rows()"
        if not rows:  # most customers' notices, links, offers, permissions: nothing to make
            return []
        fields = self.klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        attnames = [column[0].target.attname for column in self.select[start:end]]
        from_db = functools.partial(self.model.from_db, fetch_mode=self.fetch_mode)
        related = get_related_populators(
            self.klass_info, self.select, DEFAULT_DB_ALIAS, self.fetch_mode
        )
        made = []
        for row in self._converted(rows):
            new = from_db(DEFAULT_DB_ALIAS, attnames, row[start:end])
            for populator in related:
                populator.populate(row, new)
            for name, position in self.annotations:
                setattr(new, name, row[position])
            made.append(new)
        if self.prefetch:
            prefetch_related_objects(made, *self.prefetch)
        return made


def precompile_queryset(
    build: Callable[[Inputs], QuerySet], samples: tuple[Inputs, Inputs]
) -> PrecompiledQuerySet:
    """`precompile(build, samples)`, read as the ORM reads the queryset: a queryset of
    model instances (with select_related, annotations and prefetch_related) or a
    values_list (tuples). Anything else refuses to compile."""
    query = precompile(build, samples)
    # What ModelIterable reads of the queryset is private (not in the stubs' types).
    queryset: Any = build(samples[0])
    compiler = queryset.query.get_compiler(DEFAULT_DB_ALIAS)
    compiler.as_sql()  # fills select, klass_info, annotation_col_map and col_count
    if queryset._iterable_class is ModelIterable:
        model: type[Model] | None = compiler.klass_info["model"]
    elif queryset._iterable_class is ValuesListIterable and not queryset._prefetch_related_lookups:
        model = None
    else:
        raise NotPrecompilable(f"{queryset._iterable_class.__name__} is not read here")
    expressions = [column[0] for column in compiler.select[: compiler.col_count]]
    if queryset._known_related_objects or compiler.has_composite_fields(expressions):
        raise NotPrecompilable("a related manager's queryset, or a composite key")
    if queryset._fetch_mode.track_peers:
        raise NotPrecompilable("a fetch mode that tracks peers")
    return PrecompiledQuerySet(
        query=query,
        model=model,
        select=tuple(compiler.select),
        klass_info=compiler.klass_info,
        annotations=tuple((compiler.annotation_col_map or {}).items()),
        converters=tuple(
            (position, tuple(functions), expression)
            for position, (functions, expression) in compiler.get_converters(expressions).items()
        ),
        prefetch=tuple(queryset._prefetch_related_lookups),
        fetch_mode=queryset._fetch_mode,
        width=compiler.col_count if compiler.has_extra_select else None,
    )
