"""The bank's records in the customer's export (GDPR Art. 15 and 20): accounts, products
held and transactions. Every section is an iterator; transactions beyond the first chunk
go through a server-side cursor in chunks, so years of payments are never all in memory.
Only this customer's rows: every query filters on the customer. This reads the bank's records for
the customer's own copy of their data, never for offers (the architecture test names it
as the one exception to "only the gate reads banking data")."""

import functools
import itertools
from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils import translation

from consent.export import iso_utc
from infra.languages import text_language
from infra.precompiled import (
    CUSTOMER_SAMPLES,
    Inputs,
    PrecompiledQuerySet,
    precompile_queryset,
    read_together,
    sample_moments,
)

from .countries import country_name
from .models import Account, AccountKind, Holding, Transaction


def accounts_for_export(rows, language: str | None = None):
    """`rows`: `_accounts()`'s. `language` (the page to read): the account kind's name
    next to its code."""
    for iban, kind, balance, currency in rows:
        item = {"iban": iban, "kind": kind, "balance": str(balance), "currency": currency}
        if language:
            with translation.override(language):
                item["kind_name"] = str(AccountKind(kind).label)
        yield item


def holdings_for_export(rows, language: str | None = None):
    """`rows`: `_holdings(…)`'s, the product's name in the page's language or Dutch."""
    for code, product_name in rows:
        yield {"product": code, "product_name": product_name} if language else {"product": code}


def transactions_for_export(customer, first: list[tuple], language: str | None = None):
    """Every transaction imported for the customer's accounts, oldest first, streamed.
    `first`: `_first_transactions(TRANSACTION_CHUNK)`'s rows; when the chunk is full,
    the rest comes from a server-side cursor, which costs three more round trips
    (declare, fetch, close): most customers have fewer. `language` (the page to read):
    the country's name next to its code."""
    rows: Iterable[tuple] = first
    if len(first) == TRANSACTION_CHUNK:
        iban, booked_at, tid = first[-1][1], first[-1][2], first[-1][0]
        after = {"customer_id": customer.pk, "iban": iban, "booked_at": booked_at, "tid": tid}
        rest = _transactions_after().iterator(after, chunk_size=TRANSACTION_CHUNK)
        rows = itertools.chain(first, rest)
    for tid, iban, booked_at, amount, currency, name, other_iban, mcc, country, text in rows:
        item = {
            "transaction_id": tid,
            "iban": iban,
            "booked_at": iso_utc(booked_at),
            "amount": str(amount),
            "currency": currency,
            "counterparty_name": name,
            "counterparty_iban": other_iban,
            "mcc": mcc,
            "country": country,
            "description": text,
        }
        if language:
            item["country_name"] = country_name(country, language) if country else ""
        yield item


TRANSACTION_CHUNK = 2000


TRANSACTION_FIELDS = (
    "transaction_id",
    "account__iban",
    "booked_at",
    "amount",
    "currency",
    "counterparty_name",
    "counterparty_iban",
    "mcc",
    "country",
    "description",
)


# The sections' querysets, their SQL compiled once per process (`infra.precompiled`):
# compiling the export's querysets on every request was about a third of its CPU (issue
# #24). Read as the ORM reads them.
@functools.cache
def _accounts() -> PrecompiledQuerySet:
    def build(inputs: Inputs) -> QuerySet:
        return (
            Account.objects.filter(customer_id=inputs["customer_id"])
            .order_by("iban")
            .values_list("iban", "kind", "balance", "currency")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


@functools.cache
def _holdings(language: str) -> PrecompiledQuerySet:
    def build(inputs: Inputs) -> QuerySet:
        return (
            Holding.objects.filter(customer_id=inputs["customer_id"])
            .order_by("product__code")
            .values_list("product__code", f"product__name_{language}")
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


def _transactions(inputs: Inputs) -> QuerySet:
    return (
        Transaction.objects.filter(account__customer_id=inputs["customer_id"])
        .order_by("account__iban", "booked_at", "transaction_id")
        .values_list(*TRANSACTION_FIELDS)
    )


@functools.cache
def _first_transactions(chunk: int) -> PrecompiledQuerySet:
    return precompile_queryset(lambda inputs: _transactions(inputs)[:chunk], CUSTOMER_SAMPLES)


@functools.cache
def _transactions_after() -> PrecompiledQuerySet:
    """The transactions after the one at (`iban`, `booked_at`, `tid`) in the export's
    order. After a key, not an offset: a month imported between the two reads moves no
    row into or out of the first chunk (the key is unique: `Transaction`)."""

    def build(inputs: Inputs) -> QuerySet:
        iban, booked_at, tid = inputs["iban"], inputs["booked_at"], inputs["tid"]
        return _transactions(inputs).filter(
            Q(account__iban__gt=iban)
            | Q(account__iban=iban, booked_at__gt=booked_at)
            | Q(account__iban=iban, booked_at=booked_at, transaction_id__gt=tid)
        )

    first, second = sample_moments()
    samples = (
        {"customer_id": -7_000_001, "iban": "NL00SAMP0000000001", "booked_at": first, "tid": "a"},
        {"customer_id": -7_000_002, "iban": "NL00SAMP0000000002", "booked_at": second, "tid": "b"},
    )
    return precompile_queryset(build, samples)


def export_sections(
    *, customer, language: str | None = None, **_signal
) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: the bank's records in the customer's export
    (`language`: for the page to read, names next to codes)."""
    # The three are small for most customers: read in one round trip when the first one's
    # turn comes (two statements fewer); only a full chunk of transactions reads on.
    section = read_together(
        lambda: _accounts().rows_with(
            _holdings(text_language(language or "nl")),
            _first_transactions(TRANSACTION_CHUNK),
            inputs={"customer_id": customer.pk},
        )
    )

    return [
        ("accounts", section(0, lambda rows: accounts_for_export(rows, language))),
        ("holdings", section(1, lambda rows: holdings_for_export(rows, language))),
        (
            "transactions",
            section(2, lambda rows: transactions_for_export(customer, rows, language)),
        ),
    ]
