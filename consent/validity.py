"""When a consent counts (DESIGN §5), once, as a queryset the engine can join.

A consent is valid on day D when: the state is `granted`; it was given to the purpose's
latest material version published by D (or a later, non-material one); it was given on
or before D and fewer than CONSENT_MAX_AGE_DAYS days before D; and the customer is at
least CONSENT_MIN_AGE_YEARS old on D.

Every other place (the dashboard, the gate, the offers page) asks this module, so the
rule cannot drift between them.
"""

import datetime as dt

from django.conf import settings
from django.db.models import BooleanField, Case, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Action, ConsentState, PurposeVersion


def start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def years_before(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` earlier; 29 February falls back to 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def latest_material_version() -> Subquery:
    """Per consent state: the number of the newest material version published so far."""
    return Subquery(
        PurposeVersion.objects.filter(
            purpose=OuterRef("purpose"), material=True, published_at__lt=OuterRef("_valid_until")
        )
        .order_by("-version")
        .values("version")[:1]
    )


def validity_condition(on: dt.date) -> Q:
    """A Q over ConsentState (annotated by `with_validity_inputs`) true for valid consents."""
    end_of_day = start_of_day(on + dt.timedelta(days=1))
    oldest = start_of_day(on - dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS - 1))
    return Q(
        state=Action.GRANTED,
        changed_at__lt=end_of_day,
        changed_at__gte=oldest,
        customer__birth_date__lte=years_before(on, settings.CONSENT_MIN_AGE_YEARS),
        purpose_version__version__gte=Coalesce("_material_version", Value(1)),
    )


def with_validity_inputs(states: QuerySet, *, on: dt.date) -> QuerySet:
    end_of_day = start_of_day(on + dt.timedelta(days=1))
    return states.annotate(_valid_until=Value(end_of_day)).annotate(
        _material_version=latest_material_version()
    )


def valid_consents(*, purpose_code: str | None = None, on: dt.date) -> QuerySet:
    """ConsentState rows that are valid consents on `on` (for one purpose, or for all).

    Set-based: the engine joins `.values("customer_id", "event_id")` of this queryset,
    so consent is checked inside the SQL that reads customers' data.
    """
    states = ConsentState.objects.all()
    if purpose_code is not None:
        states = states.filter(purpose__code=purpose_code)
    return with_validity_inputs(states, on=on).filter(validity_condition(on))


def is_consent_valid(*, customer, purpose_code: str, on: dt.date) -> bool:
    return valid_consents(purpose_code=purpose_code, on=on).filter(customer=customer).exists()


def annotate_validity(states: QuerySet, *, on: dt.date) -> QuerySet:
    """Adds `is_valid` to each state, for pages that show valid and invalid ones together."""
    return with_validity_inputs(states, on=on).annotate(
        is_valid=Case(
            When(validity_condition(on), then=True), default=False, output_field=BooleanField()
        )
    )
