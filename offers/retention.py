"""What offers holds, in the retention registry (`consent.retention`), and what leaving the
bank and erasure on request do to it.

The kinds and where their periods come from:

The runtime role may delete none of it (`owner_deletes_only` in offers/apps.py): each
kind goes through an owner function that checks the period again in SQL, on the
database's date, whatever this module passes (migrations offers 0011, 0012 and 0015).

- `offers` (offers, their events, follow-ups): `remove_offers_past_retention`, in batches;
- `data_use` (the data-use log), by its read date: `remove_data_use_past_retention`, in
  batches;
- `transactions`, by the booking date ('transaction') and, where a notice counts from the
  end of the relationship, only of customers who left long enough ago: a row goes when
  every rule that keeps it has run out. Whole months whose every row is past go first, by
  dropping the month's partition (`drop_transaction_months_past_retention`); then rows,
  set-based per batch of accounts (`remove_transactions_past_retention`).
- `accounts` (accounts, balances, products held), after the relationship ends; an
  account goes only once its transactions have gone (`remove_accounts_past_retention`).

Erasure on request removes the offers and the data-use log behind the customer's
`erasure_requested` event (`erase_offers_on_request`, `erase_data_use_on_request`).
"""

import datetime as dt
from collections import Counter

from django.db import connection, transaction
from django.db.models import Min, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from consent.retention_rules import Period
from lifecycle.retention import KeptData, Oldest, Retention

from .models import OPEN_STATUSES, DataUse, Offer, OfferEvent

BATCH = 5000  # rows (or offers) per statement: short transactions, bounded memory


# --- offers ---------------------------------------------------------------------------------
def remove_offers(retention: Retention) -> Counter:
    counts: Counter[str] = Counter()
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT * FROM remove_offers_past_retention(%s, %s)", [retention.as_of, BATCH]
            )
            offers, events, follow_ups = cursor.fetchone()
        counts.update({"offers": offers, "offer_events": events, "follow_ups": follow_ups})
        if offers < BATCH:
            return +counts


def oldest_offer(on: dt.date, period: Period | None = None) -> Oldest:
    """The earliest day a closed offer still held was closed (its last event)."""
    last_event = OfferEvent.objects.filter(offer=OuterRef("pk")).order_by("-occurred_at")
    closed_at = Greatest(
        "status_changed_at",
        Coalesce(Subquery(last_event.values("occurred_at")[:1]), "status_changed_at"),
    )
    first = (
        Offer.objects.exclude(status__in=OPEN_STATUSES)
        .annotate(closed_at=closed_at)
        .aggregate(first=Min("closed_at"))["first"]
    )
    return Oldest(timezone.localdate(first) if first else None, "offer_closed")


# --- the data-use log -------------------------------------------------------------------------
def remove_data_use(retention: Retention) -> Counter:
    if retention.cutoff("data_use", "read") is None:
        return Counter()
    removed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT remove_data_use_past_retention(%s, %s)", [retention.as_of, BATCH]
            )
            (batch,) = cursor.fetchone()
        removed += batch
        if batch < BATCH:
            return +Counter({"rows": removed})


def oldest_data_use(on: dt.date, period: Period | None = None) -> Oldest:
    first = DataUse.objects.aggregate(first=Min("read_at"))["first"]
    return Oldest(timezone.localdate(first) if first else None, "read")


def kept_data(**_signal) -> list[KeptData]:
    """`lifecycle.signals.kept_data`: what offers keeps, and how it goes."""
    return [
        KeptData("offers", remove=remove_offers, oldest=oldest_offer),
        KeptData("data_use", remove=remove_data_use, oldest=oldest_data_use),
    ]
