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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

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
        """Its rows, run with these inputs."""
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute(self.sql, self.params(inputs))
            return cursor.fetchall()


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
