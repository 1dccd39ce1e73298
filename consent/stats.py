"""Numbers for the privacy officer: how consent is given and withdrawn. Set-based."""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from ledger.models import Action, ConsentEvent

from .models import ConsentState, Customer, Purpose
from .validity import annotate_validity, end_of_day, start_of_day


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


@dataclass(frozen=True)
class Objections:
    stop_alls: int  # "stop all personal offers" that raised an objection, in the period
    lifted: int  # objections lifted in the period
    standing: int  # objections that stand at the moment of reading


def objection_figures(*, since: dt.date, until: dt.date, at: dt.datetime) -> Objections:
    """Objections to direct marketing (GDPR Art. 21(2)): how many customers stopped all
    personal offers and how many lifted their objection between `since` and `until`
    (Amsterdam dates, both included), and how many objections stand at `at`. Two queries."""
    counts = ConsentEvent.objects.filter(
        purpose__isnull=True,
        occurred_at__gte=start_of_day(since),
        occurred_at__lt=end_of_day(until),
    ).aggregate(
        stop_alls=Count("pk", filter=Q(action=Action.OBJECTED)),
        lifted=Count("pk", filter=Q(action=Action.OBJECTION_LIFTED)),
    )
    standing = ConsentState.objects.filter(
        purpose__isnull=True, state=Action.OBJECTED, changed_at__lte=at
    ).count()
    return Objections(stop_alls=counts["stop_alls"], lifted=counts["lifted"], standing=standing)


def weeks_between(since: dt.date, until: dt.date) -> int:
    """How many ISO weeks (Monday to Sunday) the period touches, for the weekly charts."""
    first_monday = since - dt.timedelta(days=since.weekday())
    last_monday = until - dt.timedelta(days=until.weekday())
    return (last_monday - first_monday).days // 7 + 1
