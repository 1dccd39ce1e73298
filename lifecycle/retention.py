"""Removing what is past its period, as the published notices state it (GDPR Art.
5(1)(e)); the periods themselves are `consent.retention_rules`.

`enforce_retention` runs the removers in `KIND_ORDER`. Each kind is removed by the app
that holds that data, which says so through `lifecycle.signals.kept_data`, so this app
knows nothing of offers or transactions. What the runtime database role may not delete
(the ledger, offer events, the feed, accounts, transactions) is removed by owner functions
that check the period again in SQL against the database's own date (`retention_today()`,
`infra.dbroles.OwnerFunction` in the migrations): whoever holds the runtime role can
erase only what is truly past its period. Every period "after the relationship ends"
counts from the ledger's departure (`RelationshipEnd`), never from a column.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, transaction
from django.db.models import DateField, Exists, F, Func, Min, OuterRef
from django.utils.text import capfirst

from consent.models import Customer
from consent.retention_rules import KIND_ORDER, KINDS, Period, periods
from infra.dates import add_years
from infra.effects import answers, collect
from infra.languages import text_language
from infra.progress import Progress
from ledger.models import ConsentEvent

from . import signals


# --- The database's date --------------------------------------------------------------------
def database_today() -> dt.date:
    """The date the owner's retention functions count with (`retention_today()`): the
    database server's date in Amsterdam, which the runtime role cannot move."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT retention_today()")
        return cursor.fetchone()[0]


# --- The removers, registered by the apps that hold the data ---------------------------------
@dataclass(frozen=True)
class Retention:
    """One enforcement: the day it counts for and the periods in effect on it."""

    as_of: dt.date
    now: dt.datetime
    periods: dict[str, Period]

    def period(self, kind: str) -> Period | None:
        return self.periods.get(kind)

    def cutoff(self, kind: str, anchor: str) -> dt.date | None:
        """`Period.cutoff` of `kind`'s period on `as_of`; None (remove nothing) when no
        notice states a period for `kind` or none counted from `anchor`."""
        period = self.period(kind)
        return None if period is None else period.cutoff(anchor, self.as_of)


@dataclass(frozen=True)
class Oldest:
    """The oldest record of a kind still held: the day its period started counting."""

    day: dt.date | None
    anchor: str


class RelationshipEnd(Func):
    """The day a customer's relationship ended as the ledger proves it: their `left`
    event's day, or the day the log took it in if later (SQL `relationship_end`, which
    the owner's retention functions count with too). NULL until it is in the log; never
    `Customer.closed_on`, which the runtime role could have written."""

    function = "relationship_end"
    output_field = DateField()

    def __init__(self, customer: str = "pk") -> None:
        super().__init__(F(customer))


@dataclass(frozen=True)
class KeptData:
    """Data of one kind that an app keeps, as it says through `signals.kept_data`: how to
    remove what is past its period (`remove(retention)` -> counts of what went, e.g.
    {"offers": 3, "offer_events": 9}) and, for the privacy overview, the oldest record
    still held whose period is running (`oldest(on, period)`, one query)."""

    kind: str
    remove: Callable[[Retention], Counter[str]]
    oldest: Callable[[dt.date, "Period | None"], Oldest]


def kept_data() -> dict[str, KeptData]:
    """Every kind of data some app keeps, by kind."""
    found: dict[str, KeptData] = {}
    for data in answers(signals.kept_data):
        if data.kind not in KINDS:
            raise ValueError(f"unknown kind of data {data.kind!r}")
        found[data.kind] = data
    return found


def consents_own_data(**_kwargs: object) -> list[KeptData]:
    """`signals.kept_data`: what the consent app keeps (this app knows it): the proof of
    consent, and the profile."""
    return [
        KeptData("consent_proof", remove=remove_consent_proof, oldest=oldest_consent_proof),
        KeptData("profile", remove=pseudonymise_profiles, oldest=oldest_profile),
    ]


# One run at a time, whatever the process: tombstone ids then commit in order, which the
# checkpoints rely on (`ledger.checkpoints.tombstone_commitment`).
ADVISORY_LOCK = 4_250_714


class RetentionInProgress(Exception):
    pass


@dataclass
class Enforcement:
    as_of: dt.date
    requested: dt.date
    removed: dict[str, Counter] = field(default_factory=dict)
    unstated: list[str] = field(default_factory=list)  # kinds no notice gives a period for

    @property
    def capped(self) -> bool:
        return self.as_of < self.requested


def enforce_retention(
    *, as_of: dt.date, now: dt.datetime, progress: Progress | None = None
) -> Enforcement:
    """Remove everything past the periods the notices in effect on `as_of` state, kind by
    kind in `KIND_ORDER`. Never later than the database's own date: the owner functions
    would refuse it anyway, and all kinds count with the same day. Idempotent: a second
    run on the same day removes nothing."""
    say = (progress or Progress.silent()).say
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        if not cursor.fetchone()[0]:
            raise RetentionInProgress("another enforce_retention run is in progress")
    try:
        return _enforce(as_of=as_of, now=now, say=say)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def _enforce(*, as_of: dt.date, now: dt.datetime, say) -> Enforcement:
    effective = min(as_of, database_today())
    retention = Retention(as_of=effective, now=now, periods=periods(on=effective))
    result = Enforcement(as_of=effective, requested=as_of)
    handlers = kept_data()
    for kind in KIND_ORDER:
        handler = handlers.get(kind)
        if handler is None:
            continue
        period = retention.period(kind)
        if period is None:
            # No notice states a period: keep everything (and say so), never guess one.
            result.unstated.append(kind)
            result.removed[kind] = Counter()
            continue
        say(f"{kind}: removing what is past {period.text('en')}")
        result.removed[kind] = handler.remove(retention)
    return result


@dataclass(frozen=True)
class HeldRow:
    """One line of the privacy overview's retention table."""

    kind: str
    label: str
    promised: str
    oldest: dt.date | None
    anchor: str
    removable_from: dt.date | None

    today: dt.date = dt.date.min

    @property
    def overdue(self) -> bool:
        return self.removable_from is not None and self.removable_from < self.today


def oldest_held(*, on: dt.date, language: str) -> list[HeldRow]:
    """Per kind of data: the promised period and the oldest record still held (the day its
    period started counting), with the day it may go. One query per kind, plus one."""
    in_effect = periods(on=on)
    handlers = kept_data()
    rows = []
    for kind in KIND_ORDER:
        handler, period = handlers.get(kind), in_effect.get(kind)
        label = KINDS[kind][text_language(language)]
        if handler is None:
            continue
        oldest = handler.oldest(on, period)
        years = period.years(oldest.anchor) if period else None
        rows.append(
            HeldRow(
                kind=kind,
                label=capfirst(label),
                promised=period.text(language) if period else "",
                oldest=oldest.day,
                anchor=oldest.anchor,
                removable_from=add_years(oldest.day, years) if oldest.day and years else None,
                today=on,
            )
        )
    return rows


def remove_consent_proof(retention: Retention) -> Counter:
    """Every chain of a customer who left longer ago than the proof-of-consent period, one
    customer per transaction, through the owner's `remove_consent_proof` (which checks the
    period again and writes the tombstone); then the apps' copies (`proof_removed`). A
    chain something still refers to (an offer kept longer than the proof, say) is kept and
    counted, never broken."""

    counts: Counter[str] = Counter()
    cutoff = retention.cutoff("consent_proof", "relationship_end")
    if cutoff is None:
        return counts
    due = (
        Customer.objects.alias(ended=RelationshipEnd())
        .filter(ended__lte=cutoff)
        .filter(Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"))))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for customer_id in list(due):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT remove_consent_proof(%s, %s)", [customer_id, retention.as_of]
                )
                (events,) = cursor.fetchone()
                effects = collect(signals.proof_removed, customer_id=customer_id, at=retention.now)
                # A reference to the removed events (deferred foreign keys) fails here,
                # inside this customer's savepoint, not at the end of the run.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        except IntegrityError:
            counts["customers_kept_still_referred_to"] += 1
            continue
        counts["customers"] += 1
        counts["events"] += events
        counts.update(effects.as_counts())
    return counts


def oldest_consent_proof(on: dt.date, period: Period | None = None) -> Oldest:
    """The earliest end of a relationship whose proof of consent is still held."""

    day = (
        Customer.objects.filter(closed_on__isnull=False)
        .filter(Exists(ConsentEvent.objects.filter(customer=OuterRef("pk"))))
        .aggregate(first=Min(RelationshipEnd()))["first"]
    )
    return Oldest(day, "relationship_end")


def pseudonymise_profiles(retention: Retention) -> Counter:
    """Customers who left longer ago than the profile's period keep only their number:
    name, e-mail address, phone and date of birth are cleared, on the customer and on
    their (disabled) login. The number stays: the tombstone and the signed checkpoints
    name the removed chain by it, and anything still kept under a longer period is
    filed under it. One UPDATE per table."""

    cutoff = retention.cutoff("profile", "relationship_end")
    if cutoff is None:
        return Counter()
    due = Customer.objects.alias(ended=RelationshipEnd()).filter(
        ended__lte=cutoff, pseudonymised_on__isnull=True
    )
    with transaction.atomic():
        users = list(due.values_list("user_id", flat=True))
        done = due.update(
            first_name="",
            last_name="",
            email="",
            phone="",
            birth_date=None,
            pseudonymised_on=retention.as_of,
        )
        # An unusable password ('!' prefix, as Django's set_unusable_password).
        get_user_model().objects.filter(pk__in=users).update(
            first_name="",
            last_name="",
            email="",
            is_active=False,
            password=UNUSABLE_PASSWORD_PREFIX,
        )
    return +Counter({"customers": done})


def oldest_profile(on: dt.date, period: Period | None = None) -> Oldest:

    day = Customer.objects.filter(closed_on__isnull=False, pseudonymised_on__isnull=True).aggregate(
        first=Min(RelationshipEnd())
    )["first"]
    return Oldest(day, "relationship_end")
