"""When a consent counts, defined once, as a queryset the engine can join.

A consent is valid at a moment `at` when:

- its state is `granted`, given at or before `at`;
- it was given to the purpose's newest material version published by `at` (or a later,
  non-material one);
- it is not too old: the last day it counts is `last_valid_day(changed_at)`, the day
  before its CONSENT_MAX_AGE_DAYS-th day;
- the customer was at least CONSENT_MIN_AGE_YEARS old on the day they chose, and is now;
- for a direct-marketing purpose, no objection to direct marketing stands;
- the customer has not left the bank (`Customer.closed_on`): leaving withdraws every
  consent anyway, and this keeps a closed customer out of every read even so.

Validity is always judged at the moment data is read (the engine's run start, a page
render), never on a past date: the state tables say what holds now.

Every other place (the dashboard, the gate, the offers page, the statistics) asks this
module, so the rule cannot drift between them.
"""

import datetime as dt
import functools
from typing import Any

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    DateField,
    Exists,
    F,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from infra.precompiled import Inputs, Precompiled, precompile, sample_moments
from ledger.models import Action

from .models import ConsentState, Customer, PurposeVersion

# Why a granted consent does not count; pages word each one.
MATERIAL_CHANGE = "material_change"
EXPIRED = "expired"
TOO_YOUNG = "too_young"  # under 16 now
GIVEN_UNDER_16 = "given_under_16"  # 16 now, but not on the day they chose
OBJECTION = "objection"
CLOSED = "closed"  # the customer left the bank
NOT_YET = "not_yet"  # given after the moment judged
UNKNOWN = "unknown"  # none of the above: said so, never guessed


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def end_of_day(day: dt.date) -> dt.datetime:
    """The first instant after `day` (local time): `< end_of_day(day)` is "on or before"."""
    return start_of_day(day + dt.timedelta(days=1))


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def sixteenth_birthday(birth_date: dt.date) -> dt.date:
    """The first day on which the customer may consent (`Customer.age_on` >= 16)."""
    years = settings.CONSENT_MIN_AGE_YEARS
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:  # born on 29 February, and that year has none
        return dt.date(birth_date.year + years, 3, 1)


def too_young_until(customer: Customer, *, on: dt.date) -> dt.date | None:
    """The day a customer under 16 on `on` may choose for themselves; None when they may
    (or have no date of birth: a pseudonymised profile, closed, whose choices the callers
    refuse first; `why_not_valid` never counts a consent without one)."""
    if customer.birth_date is None or customer.age_on(on) >= settings.CONSENT_MIN_AGE_YEARS:
        return None
    return sixteenth_birthday(customer.birth_date)


def last_valid_day(
    changed_at: dt.datetime, *, material_change_at: dt.datetime | None = None
) -> dt.date:
    """The last day (Amsterdam) on which a consent given at `changed_at` still counts: the
    day before its CONSENT_MAX_AGE_DAYS-th day, or, when a material version of its text
    takes effect earlier (`material_change_at`, published for later), the last day before
    that moment on which it still counts (the change's own day, unless it takes effect at
    midnight)."""
    day = timezone.localdate(changed_at) + dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS - 1)
    if material_change_at is None:
        return day
    return min(day, timezone.localdate(material_change_at - dt.timedelta(microseconds=1)))


def ends_by_material_change(
    changed_at: dt.datetime, *, material_change_at: dt.datetime | None
) -> bool:
    """Whether a consent given at `changed_at` stops counting because a material version
    takes effect (at `material_change_at`) before it grows too old."""
    return material_change_at is not None and material_change_at < end_of_day(
        last_valid_day(changed_at)
    )


def _oldest_valid_grant(at: dt.datetime) -> dt.datetime:
    """Consents given before this moment are too old at `at`: the inverse of
    `last_valid_day`, so the card's "valid until" and the SQL agree to the day."""
    today = timezone.localdate(at)
    return start_of_day(today - dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS - 1))


class _PlusYears(Func):
    """date + N years, in SQL (PostgreSQL moves 29 February to 28 February)."""

    output_field = DateField()

    def __init__(self, expression: F, years: int) -> None:
        super().__init__(expression, template=f"(%(expressions)s + interval '{int(years)} years')")


def with_validity_inputs(
    states: QuerySet[ConsentState], *, at: dt.datetime
) -> QuerySet[ConsentState]:
    material = (
        PurposeVersion.objects.filter(
            purpose=OuterRef("purpose"), material=True, published_at__lte=at
        )
        .order_by("-version")
        .values("version")[:1]
    )
    objected = ConsentState.objects.filter(
        customer=OuterRef("customer"), purpose__isnull=True, state=Action.OBJECTED
    )
    return states.annotate(
        _material_version=Subquery(material),
        _may_consent_from=_PlusYears(F("customer__birth_date"), settings.CONSENT_MIN_AGE_YEARS),
        _objected=Exists(objected),
    )


def moments(at: dt.datetime) -> dict[str, dt.datetime | dt.date]:
    """Every value the validity SQL takes from the moment of reading, by name.

    The dashboard compiles its SQL once per process and fills these in on each request
    (`consent.precompiled`): a value derived from `at` that is not named here makes that
    compilation refuse, so add it here and use it from here.
    """
    return {
        "at": at,
        "oldest_valid_grant": _oldest_valid_grant(at),
        "born_on_or_before": years_before(timezone.localdate(at), settings.CONSENT_MIN_AGE_YEARS),
    }


def compile_key() -> tuple[object, ...]:
    """What the validity SQL's text and constants depend on besides its named inputs
    (`moments`, the customer): code that compiles it once per process compiles it again
    when one of these changes (tests override the settings)."""
    return (
        settings.CONSENT_MIN_AGE_YEARS,
        settings.CONSENT_MAX_AGE_DAYS,
        settings.USE_TZ,
        timezone.get_current_timezone_name(),
    )


def validity_condition(at: dt.datetime) -> Q:
    """A Q over ConsentState (annotated by `with_validity_inputs`) true for valid consents."""
    moment = moments(at)
    return Q(
        state=Action.GRANTED,
        changed_at__lte=moment["at"],
        changed_at__gte=moment["oldest_valid_grant"],
        customer__birth_date__lte=moment["born_on_or_before"],
        customer__closed_on__isnull=True,
        _may_consent_from__lte=TruncDate("changed_at"),
        purpose_version__version__gte=Coalesce("_material_version", Value(1)),
    ) & (Q(purpose__direct_marketing=False) | Q(_objected=False))


def valid_consents(*, purpose_code: str | None = None, at: dt.datetime) -> QuerySet[ConsentState]:
    """ConsentState rows that are valid consents at `at` (for one purpose, or for all).

    Set-based: the engine joins `.values("customer_id", "event_id")` of this queryset,
    so consent is checked inside the SQL that reads customers' data.
    """
    states = ConsentState.objects.filter(purpose__isnull=False)
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    return with_validity_inputs(states, at=at).filter(validity_condition(at))


@functools.lru_cache(maxsize=8)
def _valid_purposes_query(_compile_key: tuple[object, ...]) -> Precompiled:
    def build(inputs: Inputs) -> QuerySet[ConsentState, Any]:
        states = valid_consents(at=inputs["at"]).filter(customer_id=inputs["customer_id"])
        return states.values("purpose_id")

    first, second = sample_moments()
    return precompile(
        build,
        (
            {"customer_id": -7_000_001, **moments(first)},
            {"customer_id": -7_000_002, **moments(second)},
        ),
    )


def valid_purposes_sql(*, customer_id: int, at: dt.datetime) -> tuple[str, list[Any]]:
    """The SQL and parameters of `valid_consents(at=at).filter(customer_id=customer_id)
    .values("purpose_id")`, for statements that join it (the consent feed's rows for a
    choice), compiled once per process (`consent.precompiled`): the same text, the same
    parameters, without building and compiling the queryset on every choice."""
    query = _valid_purposes_query(compile_key())
    return query.sql, query.params({"customer_id": customer_id, **moments(at)})


def is_consent_valid(*, customer: Customer, purpose_code: str, at: dt.datetime) -> bool:
    return valid_consents(purpose_code=purpose_code, at=at).filter(customer=customer).exists()


def annotate_validity(states: QuerySet[ConsentState], *, at: dt.datetime) -> QuerySet[ConsentState]:
    """Adds `is_valid` to each state, for pages that show valid and invalid ones together."""
    return with_validity_inputs(states, at=at).annotate(
        is_valid=Case(
            When(validity_condition(at), then=True), default=False, output_field=BooleanField()
        )
    )


def why_not_valid(state: ConsentState | None, customer: Customer, *, at: dt.datetime) -> str | None:
    """Why a *granted* consent (annotated by `annotate_validity`) does not count at `at`.

    Validity itself is decided in SQL; this only names the reason, for pages and staff.
    None for a valid consent or one that was never granted.
    """
    # What `annotate_validity` adds (is_valid, _objected, _material_version) is not in
    # the model's type.
    judged: Any = state
    if judged is None or judged.state != Action.GRANTED or judged.is_valid:
        return None
    today = timezone.localdate(at)
    if customer.closed_on is not None:
        return CLOSED
    # A granted state is about a purpose and names its version (the `state_shape` check).
    assert state is not None and state.purpose is not None and state.purpose_version is not None
    if state.changed_at > at:
        return NOT_YET
    if state.purpose.direct_marketing and judged._objected:
        return OBJECTION
    if customer.birth_date is None or customer.age_on(today) < settings.CONSENT_MIN_AGE_YEARS:
        return TOO_YOUNG
    if timezone.localdate(state.changed_at) < sixteenth_birthday(customer.birth_date):
        return GIVEN_UNDER_16
    if state.purpose_version.version < (judged._material_version or 1):
        return MATERIAL_CHANGE
    if state.changed_at < _oldest_valid_grant(at):
        return EXPIRED
    return UNKNOWN
