"""Numbers for the privacy officer: how consent is given and withdrawn. Set-based."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from .models import Action, ConsentEvent, ConsentState, Customer, Purpose
from .validity import annotate_validity


@dataclass(frozen=True)
class PurposeFigures:
    code: str
    granted: int  # valid consents today
    needs_renewal: int  # granted, but no longer valid (material change, expired, age)
    withdrawn: int
    never_chosen: int


def consent_overview(*, at: dt.datetime) -> list[PurposeFigures]:
    """Per consent-based purpose, where every customer stands. Two queries."""
    customers = Customer.objects.count()
    counts = {
        row["purpose__code"]: row
        for row in annotate_validity(ConsentState.objects.filter(purpose__required=False), at=at)
        .values("purpose__code")
        .annotate(
            granted=Count("pk", filter=Q(is_valid=True)),
            needs_renewal=Count("pk", filter=Q(state=Action.GRANTED, is_valid=False)),
            withdrawn=Count("pk", filter=Q(state=Action.WITHDRAWN)),
            chosen=Count("pk"),
        )
        .order_by()
    }
    figures = []
    for code in Purpose.objects.filter(required=False).values_list("code", flat=True):
        row = counts.get(code, {"granted": 0, "needs_renewal": 0, "withdrawn": 0, "chosen": 0})
        figures.append(
            PurposeFigures(
                code=code,
                granted=row["granted"],
                needs_renewal=row["needs_renewal"],
                withdrawn=row["withdrawn"],
                never_chosen=customers - row["chosen"],
            )
        )
    return figures


@dataclass(frozen=True)
class Week:
    starts_on: dt.date
    granted: int
    withdrawn: int


def weekly_choices(*, purpose_code: str, weeks: int, until: dt.date) -> list[Week]:
    """Grants and withdrawals per ISO week, the last `weeks` weeks up to `until`, gaps as 0."""
    return weekly_choices_per_purpose(codes=[purpose_code], weeks=weeks, until=until)[purpose_code]


def weekly_choices_per_purpose(
    *, codes: Iterable[str], weeks: int, until: dt.date
) -> dict[str, list[Week]]:
    """`weekly_choices` for each of `codes` in one query, so a page that shows every
    purpose's chart runs a fixed number of queries however many purposes there are."""
    codes = list(codes)
    last_monday = until - dt.timedelta(days=until.weekday())
    first_monday = last_monday - dt.timedelta(weeks=weeks - 1)
    rows = (
        ConsentEvent.objects.filter(
            purpose__code__in=codes,
            occurred_at__date__gte=first_monday,
            occurred_at__date__lte=until,
        )
        .annotate(week=TruncWeek("occurred_at"))
        .values("purpose__code", "week")
        .annotate(
            granted=Count("pk", filter=Q(action=Action.GRANTED)),
            withdrawn=Count("pk", filter=Q(action=Action.WITHDRAWN)),
        )
        .order_by()
    )
    found = {(row["purpose__code"], row["week"].date()): row for row in rows}
    mondays = [first_monday + dt.timedelta(weeks=n) for n in range(weeks)]
    empty = {"granted": 0, "withdrawn": 0}
    return {
        code: [
            Week(
                starts_on=monday,
                granted=found.get((code, monday), empty)["granted"],
                withdrawn=found.get((code, monday), empty)["withdrawn"],
            )
            for monday in mondays
        ]
        for code in codes
    }
