"""The consent change feed: every change in whether the bank may use a customer's data for
a purpose, in order, for the bank's other systems (`GET /api/v1/consent-changes`).

Two writers, and nothing else writes the table:

- `record_event` (receives `consent.signals.event_recorded`): every ledger event, in the transaction
  that records it. A grant or withdrawal is about its purpose; an objection, or lifting
  it, is about every direct-marketing purpose. Each row says whether the consent counts
  right after the event, as `consent.validity` judges it.
- `record_consent_changes` (the management command of the same name, run by the schedule every
  few minutes): the changes that are not events. It compares what the feed says now with
  `valid_consents(at=now)` and appends a row for every pair where they differ, naming why
  from `DERIVED_CHANGES`. Rerunning it writes nothing: after a run the two agree.

Neither writer decides validity: `consent.validity` does, so the feed cannot drift from
the dashboard, the gate or the offers page.

**The cursor.** Ids come from a sequence, which hands them out when a row is inserted,
not when its transaction commits: without care, a reader could see id 101 committed while
id 100 is still in flight, move its cursor past 100, and never see it. So every writer
takes one transaction-scoped advisory lock just before inserting and keeps it until
commit: ids then become visible in the order they were given, and a reader that has seen
id N has seen every id below N (a rolled-back transaction leaves a gap, never a late
row).

**The lock order**, for every writer: (1) the customer's row, FOR NO KEY UPDATE
(`consent.services.lock_customer`: a choice, leaving, erasure); (2) the offers it retracts; (3)
the feed lock, just before the insert, held until commit. The job takes only the feed
lock; its rows' foreign keys to customers are checked at its commit with FOR KEY SHARE,
which FOR NO KEY UPDATE does not block, so a choice holding a customer's row and waiting
for the feed lock never waits on the job, and the job never waits on the choice: no
cycle, no deadlock (`tests/api/test_feed_concurrency.py` runs both at full speed).

**Judged consistently.** The job judges validity at its `now` and only states changed at
or before it: a choice that commits between the moment the job was given and the moment
it got the lock has written its own row (it waited for the feed lock), and the job leaves
it alone instead of judging a consent given after its moment.
"""

import datetime as dt
import functools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from consent import validity
from consent.models import ConsentState, LegalBasis, Purpose, PurposeVersion
from consent.renewals import is_renewal
from consent.validity import (
    annotate_validity,
    end_of_day,
    last_valid_day,
    sixteenth_birthday,
    start_of_day,
    valid_consents,
    valid_purposes_sql,
    why_not_valid,
)
from infra import prepared
from infra.effects import Effect, EffectKind
from infra.precompiled import Inputs, Precompiled, precompile
from ledger.models import Action, Channel, ConsentEvent

from .models import ChangeKind, ConsentChange

# pg_advisory_xact_lock key: "consent change feed" (any constant; one per database).
FEED_LOCK = 0x15_C0_45_E7


def lock_feed() -> None:
    """Until this transaction ends, no other transaction can add to the feed."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])


# --- Ledger events ---------------------------------------------------------------------------
def record_event(*, event: ConsentEvent, at: dt.datetime, **_signal: Any) -> None:
    """`consent.signals.event_recorded`: the feed rows for one ledger event.

    One statement, so a choice costs one more query: the purposes the event is about,
    whether each consent counts right after it (`valid_consents`, compiled to SQL), the
    feed lock (taken before the first row is inserted, so before its id is drawn) and
    the insert.
    """
    if event.action not in ChangeKind.values:
        return  # an erasure request changes no consent
    about = _about_query(event.purpose_id is not None)
    about_sql, about_params = about.sql, about.params({"purpose_id": event.purpose_id})
    # valid_consents(at).filter(customer_id=…).values("purpose_id"), compiled once per process.
    counting_sql, counting_params = valid_purposes_sql(customer_id=event.customer_id, at=at)
    # A grant that counts holds until its last valid day (the event's own purpose: its
    # state changed at this event). Another consent that counts after lifting an objection
    # (a grant older code recorded meanwhile) gets no date; the expiry row covers it.
    valid_until = last_valid_day(event.occurred_at)
    table = ConsentChange._meta.db_table
    with connection.cursor() as cursor:
        prepared.execute(
            cursor,
            f"""
            WITH feed_lock(locked) AS MATERIALIZED (SELECT pg_advisory_xact_lock(%s)),
                 about(id) AS ({about_sql}),
                 counting(purpose_id) AS ({counting_sql})
            INSERT INTO {table} (customer_id, purpose_id, may_use, kind, effective_at,
                                 recorded_at, valid_until, event_id)
            SELECT %s, about.id, counting.purpose_id IS NOT NULL, %s, %s, %s,
                   CASE WHEN counting.purpose_id IS NOT NULL AND about.id = %s
                        THEN %s::date END,
                   %s
            FROM feed_lock, about LEFT JOIN counting ON counting.purpose_id = about.id
            ORDER BY about.id
            """,
            [
                FEED_LOCK,
                *about_params,
                *counting_params,
                event.customer_id,
                _event_kind(event),
                event.occurred_at,
                timezone.now(),
                event.purpose_id,
                valid_until,
                event.pk,
            ],
        )


@functools.cache
def _about_query(one_purpose: bool) -> Precompiled:
    """The purposes an event is about (`record_event`), compiled once per process."""

    def about(inputs: Inputs) -> QuerySet[Purpose, Any]:
        if one_purpose:
            return Purpose.objects.filter(pk=inputs["purpose_id"]).values("pk")
        # An objection, or lifting it: about direct marketing as a whole.
        return Purpose.objects.filter(direct_marketing=True, legal_basis=LegalBasis.CONSENT).values(
            "pk"
        )

    if one_purpose:
        return precompile(about, ({"purpose_id": -8_000_001}, {"purpose_id": -8_000_002}))
    return precompile(about, ({}, {}))


def _event_kind(event: ConsentEvent) -> str:
    """The feed's kind for an event: its action, except the system's withdrawals when a
    customer leaves, which say so (`close_customer` records the date first), and a grant
    that renewed a consent that still counted (`consent.renewals`)."""
    if is_renewal(event):
        return ChangeKind.RENEWED
    if (
        event.action == Action.WITHDRAWN
        and event.channel == Channel.SYSTEM
        and event.customer.closed_on is not None
    ):
        return ChangeKind.LEFT_BANK
    return event.action


# --- Changes that are not events -------------------------------------------------------------
@dataclass(frozen=True)
class Judged:
    """One consent whose validity now differs from what the feed last said about it."""

    state: ConsentState  # annotated by `annotate_validity`, customer and purpose joined
    counts: bool  # whether it counts now
    reason: str | None  # `consent.validity`'s reason when it does not count
    now: dt.datetime


@dataclass(frozen=True)
class DerivedChange:
    """A kind of change that is not a ledger event, and how it is recognised."""

    kind: str
    applies: Callable[[Judged], bool]
    effective_at: Callable[[Judged], dt.datetime]


def _expired_at(judged: Judged) -> dt.datetime:
    return end_of_day(last_valid_day(judged.state.changed_at))


def _material_version_at(judged: Judged) -> dt.datetime:
    # Read with the row (`_differing` annotates it), not a query per row while the feed
    # is locked.
    state: Any = judged.state
    published_at: dt.datetime = state._material_published_at
    return published_at


def _sixteenth_birthday_at(judged: Judged) -> dt.datetime:
    return start_of_day(sixteenth_birthday(judged.state.customer.birth_date))


def _turned_16(judged: Judged) -> bool:
    """The customer's age decides the change: they are under 16 now, or a consent
    starts to count on their 16th birthday. Under #7's rules a grant given before the
    16th birthday never counts, so turning 16 changes nothing today; the entry keeps the
    feed right should that rule change."""
    if judged.counts:
        birthday = sixteenth_birthday(judged.state.customer.birth_date)
        chosen_on = timezone.localdate(judged.state.changed_at)
        return chosen_on < birthday <= timezone.localdate(judged.now)
    return judged.reason in (validity.TOO_YOUNG, validity.GIVEN_UNDER_16)


def _left_bank_at(judged: Judged) -> dt.datetime:
    return start_of_day(judged.state.customer.closed_on)


# The explicit registry, checked in order; the first entry that applies names the change.
DERIVED_CHANGES: tuple[DerivedChange, ...] = (
    # Leaving the bank withdraws every consent with events of its own (kind
    # `left_bank` too); this catches a consent that counted and stops because the customer
    # left by any other way.
    DerivedChange(
        ChangeKind.LEFT_BANK,
        lambda judged: not judged.counts and judged.reason == validity.CLOSED,
        _left_bank_at,
    ),
    DerivedChange(
        ChangeKind.EXPIRED,
        lambda judged: not judged.counts and judged.reason == validity.EXPIRED,
        _expired_at,
    ),
    DerivedChange(
        ChangeKind.MATERIAL_VERSION,
        lambda judged: not judged.counts and judged.reason == validity.MATERIAL_CHANGE,
        _material_version_at,
    ),
    DerivedChange(ChangeKind.TURNED_16, _turned_16, _sixteenth_birthday_at),
)
# Anything else (consents recorded before the feed existed, a consent that ended in a way
# no entry names) is put right as `reconciled`, effective when it is noticed.
FALLBACK = DerivedChange(ChangeKind.RECONCILED, lambda judged: True, lambda judged: judged.now)


def _differing(*, now: dt.datetime, purpose_code: str | None) -> Iterable[Judged]:
    """Consents whose validity at `now` differs from what the feed last said (or, for a
    consent that counts, from a feed that said nothing)."""
    said = ConsentChange.objects.filter(
        customer_id=OuterRef("customer_id"), purpose_id=OuterRef("purpose_id")
    ).order_by("-id")
    # When the newest material version in effect was published (as `consent.validity`
    # finds that version), for consents it ended.
    material = PurposeVersion.objects.filter(
        purpose=OuterRef("purpose"), material=True, published_at__lte=now
    ).order_by("-version")
    states = ConsentState.objects.filter(
        purpose__isnull=False, purpose__legal_basis=LegalBasis.CONSENT, changed_at__lte=now
    )
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    states = annotate_validity(
        states.select_related("customer", "purpose", "purpose_version").annotate(
            feed_says=Subquery(said.values("may_use")[:1]),
            _material_published_at=Subquery(material.values("published_at")[:1]),
        ),
        at=now,
    ).filter(
        Q(feed_says=True, is_valid=False)
        | Q(is_valid=True) & (Q(feed_says=False) | Q(feed_says__isnull=True))
    )
    for state in states.order_by("pk"):
        yield Judged(
            state=state,
            counts=state.is_valid,
            reason=why_not_valid(state, state.customer, at=now),
            now=now,
        )


def classify(judged: Judged) -> DerivedChange:
    return next((entry for entry in DERIVED_CHANGES if entry.applies(judged)), FALLBACK)


@transaction.atomic
def changes_recorded(rows: list[ConsentChange]) -> str:
    """What `record_consent_changes` did, in numbers (its command and the schedule say it)."""
    by_kind = Counter(row.kind for row in rows)
    summary = ", ".join(f"{kind} {count}" for kind, count in sorted(by_kind.items()))
    return f"{len(rows)} changes recorded" + (f" ({summary})" if summary else "")


def record_consent_changes(
    *, now: dt.datetime, purpose_code: str | None = None
) -> list[ConsentChange]:
    """Append the changes that took effect without an event by `now`. Idempotent."""
    # The lock first: a choice committing meanwhile then comes after our rows in the
    # feed, and its own row (judged in its own transaction) has the last word.
    lock_feed()
    rows = []
    for judged in _differing(now=now, purpose_code=purpose_code):
        entry = classify(judged)
        state = judged.state
        rows.append(
            ConsentChange(
                customer_id=state.customer_id,
                purpose_id=state.purpose_id,
                may_use=judged.counts,
                kind=entry.kind,
                effective_at=entry.effective_at(judged),
                recorded_at=timezone.now(),
                valid_until=last_valid_day(state.changed_at) if judged.counts else None,
            )
        )
    return ConsentChange.objects.bulk_create(rows)


# --- Retention ---------------------------------------------------------------------------------
FEED_ROWS_REMOVED = EffectKind("feed_rows")


def remove_customer_changes(*, customer_id: int, **_signal: Any) -> list[Effect]:
    """`lifecycle.signals.proof_removed`: retention removed the customer's consent chain, so
    the feed's copy of it goes too, through the owner's function (the feed is append-only
    for the runtime role), which checks that a tombstone stands for the chain. Cursors stay
    valid: the ids are gone, never reused."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT remove_consent_changes(%s)", [customer_id])
        (removed,) = cursor.fetchone()
    return [FEED_ROWS_REMOVED(removed)]


# --- Restores ---------------------------------------------------------------------------------
# How far the feed's ids jump after a restore, above the newest id the checkpoint host
# recorded: more changes than the feed takes between two checkpoints, by far.
FEED_ID_JUMP = 10_000_000


def feed_at_checkpoint(**_kwargs: Any) -> dict[str, int]:
    """`ledger.signals.checkpointed`: the feed's newest id, kept with the checkpoint."""
    return {"feed_max": feed_position()}


def feed_after_restore(*, state: dict[str, object], **_kwargs: Any) -> dict[str, int]:
    """`ledger.signals.restoring`: the database is older than what followers read. Ids
    continue far above anything a follower can have seen (never reused), and the first
    of them is a marker that tells every follower to take a snapshot again. Run as the
    owner (moving a sequence is not the runtime role's)."""
    table = ConsentChange._meta.db_table
    seen = max(feed_position(), int(str(state.get("feed_max", 0))))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [table, seen + FEED_ID_JUMP]
        )
    with transaction.atomic():
        lock_feed()
        now = timezone.now()
        ConsentChange.objects.create(
            kind=ChangeKind.RESNAPSHOT, effective_at=now, recorded_at=now, may_use=None
        )
    return {"feed_ids_moved_past": seen}


# --- Reading ---------------------------------------------------------------------------------
def changes_after(after: int, *, limit: int) -> list[ConsentChange]:
    """At most `limit` changes with an id above `after`, in id order."""
    return list(
        ConsentChange.objects.filter(id__gt=after)
        .select_related("customer", "purpose")
        .order_by("id")[:limit]
    )


def feed_position() -> int:
    """The id of the newest visible change (0 for an empty feed)."""
    last = ConsentChange.objects.order_by("-id").values_list("id", flat=True).first()
    return last or 0


def valid_customers(*, purpose_code: str, at: dt.datetime, after: str | None = None):
    """(customer number, consent given at, last valid day) of every customer whose consent
    for the purpose counts at `at`, by customer number (those after `after`, to resume);
    streamed from a server-side cursor."""
    consents = valid_consents(purpose_code=purpose_code, at=at)
    if after is not None:
        consents = consents.filter(customer__customer_number__gt=after)
    rows = (
        consents.order_by("customer__customer_number")
        .values_list("customer__customer_number", "changed_at")
        .iterator(chunk_size=2000)
    )
    for customer_number, changed_at in rows:
        yield customer_number, changed_at, last_valid_day(changed_at)
