"""What the bank's records hold, in the retention registry: transactions and accounts.

The runtime role may delete none of it (`owner_deletes_only` in banking/apps.py): each
kind goes through an owner function that checks the period again in SQL, on the
database's date, whatever this module passes.

- `transactions`, by the booking date ('transaction') and, where a notice counts from the
  end of the relationship, only of customers who left long enough ago (as the ledger
  proves it: `relationship_end`): a row goes when every rule that keeps it has run out.
  Whole months whose every row is past go first, by dropping the month's partition
  (`drop_transaction_months_past_retention`); then rows, set-based per batch of accounts
  (`remove_transactions_past_retention`).
- `accounts` (accounts, balances, products held), after the relationship ends; an
  account goes only once its transactions have gone (`remove_accounts_past_retention`).
"""

import datetime as dt
from collections import Counter

from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from consent.models import Customer
from consent.retention_rules import Period
from lifecycle.retention import KeptData, Oldest, RelationshipEnd, Retention

from .models import Account, Holding, Transaction

ACCOUNT_BATCH = 500


# --- transactions -----------------------------------------------------------------------------
def remove_transactions(retention: Retention) -> Counter:
    """Rows past every rule that keeps them. First whole months, detached and dropped
    where every row of the month is past its period (an owner function that checks that
    itself); then single rows. With a rule counted from the end of the relationship, only
    accounts of customers who left long enough ago are looked at (through the (account,
    booked_at) index); without one, every account."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT months, removed_rows FROM drop_transaction_months_past_retention(%s)",
            [retention.as_of],
        )
        months, month_rows = cursor.fetchone()
    dropped = Counter({"months": months, "rows": month_rows})
    booked = retention.cutoff("transactions", "transaction")
    left = retention.cutoff("transactions", "relationship_end")
    if booked is None and left is None:
        return +dropped  # no rule this remover knows: keep everything
    accounts = Account.objects.order_by("pk")
    if left is not None:
        accounts = accounts.alias(ended=RelationshipEnd("customer_id")).filter(ended__lte=left)
    ids = list(accounts.values_list("pk", flat=True))
    removed = 0
    for start in range(0, len(ids), ACCOUNT_BATCH):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT remove_transactions_past_retention(%s, %s)",
                [retention.as_of, ids[start : start + ACCOUNT_BATCH]],
            )
            removed += cursor.fetchone()[0]
    return +(dropped + Counter({"rows": removed}))


def oldest_transaction(on: dt.date, period: Period | None = None) -> Oldest:
    """With a rule counted from the end of the relationship, only transactions of
    customers who left are on the clock: the earliest such end. Otherwise the oldest
    booking."""
    if period is not None and period.years("relationship_end") is not None:
        first = (
            Customer.objects.filter(closed_on__isnull=False)
            .filter(Exists(Transaction.objects.filter(account__customer=OuterRef("pk"))))
            .aggregate(first=Min(RelationshipEnd()))["first"]
        )
        return Oldest(first, "relationship_end")
    first = Transaction.objects.aggregate(first=Min("booked_at"))["first"]
    return Oldest(timezone.localdate(first) if first else None, "transaction")


# --- accounts and products held -----------------------------------------------------------------
def remove_accounts(retention: Retention) -> Counter:
    """Accounts and products of customers who left longer ago than the period. An account
    with transactions still held stays (they refer to it; no database key says so).
    Accounts are never deleted otherwise (a trigger, and the runtime role has no DELETE);
    the owner's function is the one exception, once nothing refers to them."""
    if retention.cutoff("accounts", "relationship_end") is None:
        return Counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM remove_accounts_past_retention(%s)", [retention.as_of])
        accounts, holdings = cursor.fetchone()
    return +Counter({"accounts": accounts, "holdings": holdings})


def oldest_account(on: dt.date, period: Period | None = None) -> Oldest:
    first = Customer.objects.filter(
        Q(Exists(Account.objects.filter(customer=OuterRef("pk"))))
        | Q(Exists(Holding.objects.filter(customer=OuterRef("pk")))),
        closed_on__isnull=False,
    ).aggregate(first=Min(RelationshipEnd()))["first"]
    return Oldest(first, "relationship_end")


def kept_data(**_signal) -> list[KeptData]:
    """`lifecycle.signals.kept_data`: what the bank's records keep, and how they go."""
    return [
        KeptData("transactions", remove=remove_transactions, oldest=oldest_transaction),
        KeptData("accounts", remove=remove_accounts, oldest=oldest_account),
    ]
