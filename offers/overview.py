"""The privacy officer's overview (docs/architecture.md): how consent is given and withdrawn, and
what the offers engine did with it. Set-based, and a fixed number of queries whatever
the number of customers, purposes, products or offers.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import cast

from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from banking.models import Product
from consent.channels import CHANNELS, is_channel
from consent.charts import weekly_chart_svg
from consent.dashboard import current_versions
from consent.stats import (
    Objections,
    PurposeFigures,
    Week,
    consent_overview,
    objection_figures,
    weekly_choices_per_purpose,
    weeks_between,
)
from consent.validity import end_of_day, start_of_day
from lifecycle.retention import HeldRow, oldest_held

from .models import DataUse, FollowUpOutcome, FollowUpStatus, Offer, OfferStatus
from .rules import RULES

# Offers a reviewer approved that reached the customer (whatever the customer did since).
REACHED_CUSTOMER = (OfferStatus.APPROVED, OfferStatus.ACCEPTED, OfferStatus.DISMISSED)
# The funnel's columns, in the order an offer moves through them (docs/gate.md), with the
# filter that counts it. `proposed` is every offer the engine ever made.
FUNNEL = {
    "proposed": Q(),
    "waiting": Q(status=OfferStatus.PROPOSED),
    "rejected": Q(status=OfferStatus.REJECTED),
    "approved": Q(status__in=REACHED_CUSTOMER),
    "shown": Q(status=OfferStatus.APPROVED),
    "accepted": Q(status=OfferStatus.ACCEPTED),
    "dismissed": Q(status=OfferStatus.DISMISSED),
    "retracted": Q(status=OfferStatus.RETRACTED),
    "expired": Q(status=OfferStatus.EXPIRED),
    # The last step: the contact centre reached the interested customer by phone.
    "called": Q(follow_up__status=FollowUpStatus.CALLED)
    | Q(
        follow_up__status=FollowUpStatus.CLOSED,
        follow_up__outcome__in=[FollowUpOutcome.TAKEN, FollowUpOutcome.DECLINED],
    ),
}


@dataclass(frozen=True)
class PurposeOverview:
    figures: PurposeFigures
    title: str
    weeks: list[Week]
    chart: str  # SVG; every text in it is escaped


@dataclass(frozen=True)
class FunnelRow:
    product_code: str
    product_name: str
    counts: dict[str, int]


@dataclass(frozen=True)
class DataUseRow:
    """How often the offers engine read customers' data under one purpose (the data-use
    log that customers see on their own page), over the last `DATA_USE_DAYS` days."""

    code: str
    title: str
    reads: int
    customers: int
    last_read: dt.datetime | None


DATA_USE_DAYS = 30


@dataclass(frozen=True)
class Overview:
    on: dt.date
    purposes: list[PurposeOverview]
    funnel: list[FunnelRow]
    data_use: list[DataUseRow]
    since: dt.date | None = None
    until: dt.date | None = None
    objections: Objections | None = None
    # Per kind of data, the oldest record still held next to the promised period
    # (`consent.retention.oldest_held`): storage limitation at a glance.
    held: list[HeldRow] = field(default_factory=list)

    @property
    def choice_purposes(self) -> list[PurposeOverview]:
        """The purposes but the contact channels, which have a table of their own."""
        return [p for p in self.purposes if not is_channel(p.figures.code)]

    @property
    def channels(self) -> list[tuple[str, PurposeOverview]]:
        """Per contact channel (`consent.channels`, in its order), its purpose's figures:
        how many customers the bank may contact that way about offers now."""
        by_code = {p.figures.code: p for p in self.purposes}
        return [(channel, by_code[code]) for channel, code in CHANNELS.items() if code in by_code]


def offers_funnel(
    *, language: str, since: dt.date | None = None, until: dt.date | None = None
) -> list[FunnelRow]:
    """Per product, how many offers are at each stage (of those the engine made between
    `since` and `until`, when given). One grouped query with FILTER, plus the product
    names; products no rule suggests and never offered are left out."""
    offers = Offer.objects.all()
    if since is not None:
        offers = offers.filter(created_at__gte=start_of_day(since))
    if until is not None:
        offers = offers.filter(created_at__lt=end_of_day(until))
    # {"product_id": …, one count per FUNNEL column}: names the stubs cannot see.
    rows = cast(
        Iterable[dict[str, int]],
        offers.values("product_id")
        .annotate(**{name: Count("pk", filter=q) for name, q in FUNNEL.items()})
        .order_by(),
    )
    by_product = {row.pop("product_id"): row for row in rows}
    suggested = {rule.product for rule in RULES}
    return [
        FunnelRow(
            product_code=product.code,
            product_name=product.name(language),
            counts=by_product.get(product.pk, dict.fromkeys(FUNNEL, 0)),
        )
        for product in Product.objects.order_by("code")
        if product.pk in by_product or product.code in suggested
    ]


def privacy_overview(
    *,
    at: dt.datetime,
    language: str,
    weeks: int = 26,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> Overview:
    """Everything the overview page shows at `at`, texts in `language`. With a period
    (`since` to `until`, Amsterdam dates), the weekly charts, the objections and the funnel
    cover that period; the per-purpose figures are always the state at `at`."""
    on = timezone.localdate(at)
    figures = consent_overview(at=at)
    titles = {
        version.purpose.code: version.text("title", language) for version in current_versions(at=at)
    }
    until_day = min(until or on, on)
    if since is not None:
        weeks = weeks_between(min(since, until_day), until_day)
    weekly = weekly_choices_per_purpose(
        codes=[f.code for f in figures], weeks=weeks, until=until_day
    )
    purposes = [
        PurposeOverview(
            figures=purpose,
            title=titles.get(purpose.code, purpose.code),
            weeks=weekly[purpose.code],
            chart=weekly_chart_svg(
                weekly[purpose.code],
                title=_("Toestemmingen per week: %(title)s")
                % {"title": titles.get(purpose.code, purpose.code)},
                granted_label=_("gegeven"),
                withdrawn_label=_("ingetrokken"),
                chart_id=f"chart-{purpose.code}",
            ),
        )
        for purpose in figures
    ]
    # Without a start, the period is the charts' weeks: from the Monday `weeks` weeks back.
    since_day = (
        min(since, until_day)
        if since
        else (until_day - dt.timedelta(days=until_day.weekday()) - dt.timedelta(weeks=weeks - 1))
    )
    return Overview(
        on=on,
        purposes=purposes,
        funnel=offers_funnel(language=language, since=since_day, until=until_day),
        data_use=data_use_figures(at=at, titles=titles),
        since=since_day,
        until=until_day,
        objections=objection_figures(since=since_day, until=until_day, at=at),
        held=oldest_held(on=on, language=language),
    )


def data_use_figures(*, at: dt.datetime, titles: dict[str, str]) -> list[DataUseRow]:
    """Per purpose: reads logged in the last `DATA_USE_DAYS` days, the customers they
    concerned, and the last one. One grouped query."""
    rows = (
        DataUse.objects.filter(read_at__gt=at - dt.timedelta(days=DATA_USE_DAYS), read_at__lte=at)
        .values("purpose__code")
        .annotate(reads=Count("*"), customers=Count("customer", distinct=True), last=Max("read_at"))
        .order_by("purpose__position", "purpose__code")
    )
    return [
        DataUseRow(
            code=row["purpose__code"],
            title=titles.get(row["purpose__code"], row["purpose__code"]),
            reads=row["reads"],
            customers=row["customers"],
            last_read=row["last"],
        )
        for row in rows
    ]
