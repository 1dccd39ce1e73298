"""The bank's records in the export (banking.export): the accounts, holdings and first
chunk of transactions are read in one round trip, and only a full chunk reads on from a
cursor. The sections must be exactly what reading them one queryset at a time gives:
the same items, keys in the same order, the same values."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import translation

from banking import export
from banking.countries import country_name
from banking.models import Account, Holding, Transaction
from consent.export import customer_export, stream_export
from tests.factories import CustomerFactory
from tests.offers.factories import AccountFactory, TransactionFactory, hold

CHUNK = 3


def one_queryset_at_a_time(customer, language=None) -> dict[str, list[dict]]:
    """The three sections as the export read them before: each queryset by the ORM, the
    transactions from one server-side cursor."""
    accounts = []
    for account in Account.objects.filter(customer=customer).order_by("iban"):
        item = {
            "iban": account.iban,
            "kind": account.kind,
            "balance": str(account.balance),
            "currency": account.currency,
        }
        if language:
            with translation.override(language):
                item["kind_name"] = str(account.get_kind_display())
        accounts.append(item)
    holdings = [
        {"product": code, "product_name": name} if language else {"product": code}
        for code, name in Holding.objects.filter(customer=customer)
        .order_by("product__code")
        .values_list("product__code", f"product__name_{language or 'nl'}")
    ]
    transactions = []
    rows = (
        Transaction.objects.filter(account__customer=customer)
        .order_by("account__iban", "booked_at", "transaction_id")
        .values_list(*export.TRANSACTION_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    for tid, iban, booked_at, amount, currency, name, other_iban, mcc, country, text in rows:
        item = {
            "transaction_id": tid,
            "iban": iban,
            "booked_at": booked_at.astimezone(dt.UTC).isoformat(),
            "amount": str(amount),
            "currency": currency,
            "counterparty_name": name,
            "counterparty_iban": other_iban,
            "mcc": mcc,
            "country": country,
            "description": text,
        }
        if language:
            item["country_name"] = country_name(country, language)
        transactions.append(item)
    return {"accounts": accounts, "holdings": holdings, "transactions": transactions}


def payments(account, count: int, *, prefix: str) -> None:
    """`count` payments, two at each moment (the chunk ends between payments booked at
    the same moment), across two months (two partitions), a few abroad."""
    start = dt.datetime(2026, 9, 29, 8, 0, 0, 123456, tzinfo=dt.UTC)
    for n in range(count):
        TransactionFactory(
            account=account,
            transaction_id=f"{prefix}-{count - n:03d}",  # ids not in booking order
            booked_at=start + dt.timedelta(days=n // 2),
            amount=Decimal(f"-{n + 1}.05"),
            counterparty_name=f"Winkel {n}",
            country="BE" if n % 3 == 0 else "NL",
            mcc=None if n % 4 == 0 else "5411",
        )


@pytest.fixture
def chunk(monkeypatch):
    monkeypatch.setattr(export, "TRANSACTION_CHUNK", CHUNK)
    return CHUNK


@pytest.mark.parametrize("count", [0, 2, 3, 4, 6, 11])
def test_the_bank_records_are_exactly_what_one_queryset_at_a_time_reads(db, chunk, count):
    customer = CustomerFactory()
    first = AccountFactory(customer=customer, kind="savings", balance=Decimal("12500.10"))
    second = AccountFactory(customer=customer)
    hold(customer, "travel_insurance_europe")
    payments(first, count, prefix="a")
    payments(second, count // 2, prefix="b")
    AccountFactory(customer=CustomerFactory())  # someone else's: never in the export
    for language in (None, "en"):
        ours = customer_export(customer, language=language)
        theirs = one_queryset_at_a_time(customer, language)
        for section in ("accounts", "holdings", "transactions"):
            assert ours[section] == theirs[section]
            assert [list(item) for item in ours[section]] == [
                list(item) for item in theirs[section]
            ]
    assert len(ours["transactions"]) == count + count // 2
    assert ours["holdings"] and len(ours["accounts"]) == 2


def test_the_streamed_file_holds_every_transaction_in_order(db, chunk):
    customer = CustomerFactory()
    payments(AccountFactory(customer=customer), 2 * CHUNK + 1, prefix="t")
    data = json.loads("".join(stream_export(customer)))
    theirs = one_queryset_at_a_time(customer)
    assert data["transactions"] == theirs["transactions"]


def test_a_transaction_imported_after_the_first_chunk_moves_no_other(db, chunk):
    """Between the first chunk and the rest, a payment booked earlier than the chunk's
    last arrives: the rest starts after the last one read (by key, not by count), so
    nothing is read twice or skipped."""
    customer = CustomerFactory()
    account = AccountFactory(customer=customer)
    payments(account, 2 * CHUNK, prefix="t")
    transactions = export.export_sections(customer=customer)[2][1]
    read = [next(transactions)["transaction_id"] for _ in range(CHUNK)]
    TransactionFactory(
        account=account,
        transaction_id="late",
        booked_at=dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
    )
    rest = [item["transaction_id"] for item in transactions]
    everything = [
        item["transaction_id"] for item in one_queryset_at_a_time(customer)["transactions"]
    ]
    assert read + rest == [tid for tid in everything if tid != "late"]
