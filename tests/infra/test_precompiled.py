"""The driver keeps the conversion of our long statements (infra.precompiled): the
dashboard's statement is converted once per process, not on every request. A queryset
compiled once (`precompile_queryset`) reads what the ORM reads: the same instances, the
same tuples."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F, Model, Prefetch
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg import _queries

from consent.choices import stop_all_offers
from consent.dashboard import _card_inputs, _cards_query
from consent.models import Customer, PurposeVersion
from consent.validity import compile_key
from infra.precompiled import (
    LONGEST_STATEMENT_KEPT,
    NotPrecompilable,
    precompile_queryset,
    read_together,
    sample_moments,
)
from ledger.models import Action, Channel, ConsentEvent
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, publish_version


def test_the_dashboards_statement_is_longer_than_the_drivers_own_bound(db):
    statement = _cards_query(False, compile_key())
    assert 4096 < len(statement.sql) <= LONGEST_STATEMENT_KEPT


def test_a_long_statement_is_converted_once_and_then_reused(db):
    statement = _cards_query(False, compile_key())
    inputs = _card_inputs(customer_id=-1, at=timezone.now(), code=None)
    params = statement.params(inputs)
    # As its text: what a connection's first run sends (`infra.prepared` runs it as a
    # prepared statement from the second run on that connection).
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)  # converted (or already, by another test)
        before = _queries._query2pg_client.cache_info()
        for _ in range(3):
            cursor.execute(statement.sql, params)
        after = _queries._query2pg_client.cache_info()
    assert after.hits - before.hits == 3
    assert after.misses == before.misses


# --- precompile_queryset: what iterating the queryset gives, compiled once -----------------------
def same_as_orm(ours, orms, seen=None) -> None:
    """Every instance the same as the ORM's: its class, its fields and annotations, each
    related instance select_related set (None included), and what prefetch_related read
    (an instance met again through a reverse relation is compared once)."""
    seen = set() if seen is None else seen
    assert len(ours) == len(orms)
    for mine, theirs in zip(ours, orms, strict=True):
        if not isinstance(theirs, Model):
            assert mine == theirs
            continue
        if id(theirs) in seen:
            continue
        seen.add(id(theirs))
        assert type(mine) is type(theirs)
        fields = {
            k: v
            for k, v in vars(theirs).items()
            if k not in ("_state", "_prefetched_objects_cache")
        }
        assert {k: v for k, v in vars(mine).items() if k in fields} == fields
        assert set(vars(mine)) == set(vars(theirs))
        assert (mine._state.adding, mine._state.db) == (theirs._state.adding, theirs._state.db)
        assert mine._state.fields_cache.keys() == theirs._state.fields_cache.keys()
        for name, related in theirs._state.fields_cache.items():
            same_as_orm([mine._state.fields_cache[name]], [related], seen)
        prefetched = getattr(theirs, "_prefetched_objects_cache", {})
        assert getattr(mine, "_prefetched_objects_cache", {}).keys() == prefetched.keys()
        for name, related in prefetched.items():
            same_as_orm(list(mine._prefetched_objects_cache[name]), list(related), seen)


def customers_with_events(now):
    """Two customers with choices, one of them with an objection (an event about no
    purpose: select_related finds nothing), made as the site makes them."""
    chooser, objector = CustomerFactory(), CustomerFactory()
    for customer in (chooser, objector):
        choose_on_screen(customer, "offers_spending", Action.GRANTED, at=now - dt.timedelta(days=2))
        choose_on_screen(customer, "offers_income", Action.GRANTED, at=now - dt.timedelta(days=1))
    choose_on_screen(chooser, "offers_income", Action.WITHDRAWN, at=now)
    stop_all_offers(customer=objector, channel=Channel.WEB, actor=None, at=now)
    return chooser, objector, CustomerFactory()


SAMPLES = ({"customer_id": -7_000_001}, {"customer_id": -7_000_002})


def test_instances_are_the_orms_with_select_related_and_annotations(db, now):
    def build(inputs):
        return (
            ConsentEvent.objects.filter(customer_id=inputs["customer_id"])
            .select_related("purpose", "purpose_version__purpose")
            .annotate(next_sequence=F("sequence") + 1)
            .order_by("sequence")
        )

    compiled = precompile_queryset(build, SAMPLES)
    read = []
    for customer in customers_with_events(now):
        orms = list(build({"customer_id": customer.pk}))
        same_as_orm(compiled.instances({"customer_id": customer.pk}), orms)
        read += orms
    assert {event.purpose is None for event in read} == {True, False}


def test_prefetch_related_is_done_by_the_orm_on_the_instances(db, now):
    def build(inputs):
        return Customer.objects.filter(pk=inputs["customer_id"]).prefetch_related(
            Prefetch("consent_events", queryset=ConsentEvent.objects.order_by("sequence"))
        )

    compiled = precompile_queryset(build, SAMPLES)
    for customer in customers_with_events(now):
        same_as_orm(
            compiled.instances({"customer_id": customer.pk}),
            list(build({"customer_id": customer.pk})),
        )


def test_a_values_list_reads_the_orms_tuples_converted_whole_or_in_chunks(db, now):
    """JSON and arrays go through the ORM's converters (a notice's rules are JSON)."""
    publish_version("offers_spending", material=False, at=now - dt.timedelta(hours=1))
    first, second = sample_moments()

    def build(inputs):
        return (
            PurposeVersion.objects.filter(published_at__lt=inputs["at"])
            .order_by("purpose_id", "version")
            .values_list("pk", "retention_rules", "data_categories", "published_at")
        )

    compiled = precompile_queryset(build, ({"at": first}, {"at": second}))
    for at in (now, now - dt.timedelta(hours=2), now - dt.timedelta(days=99_999)):
        orms = list(build({"at": at}))
        assert compiled.rows({"at": at}) == orms
        assert list(compiled.iterator({"at": at}, chunk_size=2)) == orms
    assert any(rules for _pk, rules, _data, _at in orms) or not orms
    assert all(isinstance(rules, list) for _pk, rules, _data, _at in compiled.rows({"at": now}))


def test_several_values_lists_read_together_give_each_ones_rows(db, now):
    """`rows_with`: one round trip, each statement's rows converted as its own."""
    publish_version("offers_spending", material=False, at=now - dt.timedelta(hours=1))
    samples = tuple({"at": at} for at in sample_moments())

    def versions(inputs):
        return (
            PurposeVersion.objects.filter(published_at__lt=inputs["at"])
            .order_by("purpose_id", "version")
            .values_list("pk", "retention_rules", "published_at")
        )

    def codes(inputs):
        return versions(inputs).values_list("purpose__code", flat=False)

    def none(inputs):
        return versions(inputs).filter(version__lt=0).values_list("pk")

    compiled = [precompile_queryset(build, samples) for build in (versions, none, codes)]
    first, *others = compiled
    together = first.rows_with(*others, inputs={"at": now})
    assert together == [list(build({"at": now})) for build in (versions, none, codes)]
    assert together[0] and together[2] and not together[1]
    with CaptureQueriesContext(connection) as queries:
        first.rows_with(*others, inputs={"at": now})
    assert len(queries) == 1


def test_sections_read_together_read_once_and_only_when_the_first_is_iterated():
    """`read_together`: an export's sections share one read, made when the first of them
    is streamed (none when the export is never streamed), each getting its own rows."""
    reads = []

    def read():
        reads.append(1)
        return [[("a",), ("b",)], [], [("c",)]]

    section = read_together(read)
    sections = [section(n, lambda rows: [row[0] for row in rows]) for n in (2, 0, 1)]
    assert reads == []
    assert [list(items) for items in sections] == [["c"], ["a", "b"], []]
    assert reads == [1]


def test_columns_selected_only_to_order_by_are_cut_as_the_orm_cuts_them(db, now):
    publish_version("offers_spending", material=False, at=now - dt.timedelta(hours=1))
    first, second = sample_moments()

    def build(inputs):
        # DISTINCT with an ORDER BY on a column not asked for: the ORM selects it too.
        return (
            PurposeVersion.objects.filter(published_at__lt=inputs["at"])
            .order_by("-published_at")
            .distinct()
            .values_list("purpose__code", "version")
        )

    compiled = precompile_queryset(build, ({"at": first}, {"at": second}))
    assert compiled.width == 2
    orms = list(build({"at": now}))
    assert compiled.rows({"at": now}) == orms
    assert list(compiled.iterator({"at": now}, chunk_size=3)) == orms
    assert orms


def test_what_it_does_not_read_as_the_orm_refuses_to_compile(db):
    def dicts(inputs):
        return Customer.objects.filter(pk=inputs["customer_id"]).values("pk")

    with pytest.raises(NotPrecompilable):
        precompile_queryset(dicts, SAMPLES)
