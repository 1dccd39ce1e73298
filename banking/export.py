"""The bank's records in the customer's export (GDPR Art. 15 and 20): accounts, products
held and transactions. Every section is an iterator; transactions go through a
server-side cursor in chunks, so years of payments are never all in memory. Only this
customer's rows: every query filters on the customer. This reads the bank's records for
the customer's own copy of their data, never for offers (the architecture test names it
as the one exception to "only the gate reads banking data")."""

import functools

from django.db.models import QuerySet
from django.utils import translation

from consent.export import iso_utc
from infra.languages import text_language
from infra.precompiled import CUSTOMER_SAMPLES, Inputs, PrecompiledQuerySet, precompile_queryset

from .countries import country_name
from .models import Account, AccountKind, Holding, Transaction


def accounts_for_export(customer, language: str | None = None):
    """`language` (the page to read): the account kind's name next to its code."""
    for iban, kind, balance, currency in _accounts().rows({"customer_id": customer.pk}):
        item = {"iban": iban, "kind": kind, "balance": str(balance), "currency": currency}
        if language:
            with translation.override(language):
                item["kind_name"] = str(AccountKind(kind).label)
        yield item


def holdings_for_export(customer, language: str | None = None):
    holdings = _holdings(text_language(language or "nl")).rows({"customer_id": customer.pk})
    for code, product_name in holdings:
        yield {"product": code, "product_name": product_name} if language else {"product": code}


def transactions_for_export(customer, language: str | None = None):
    """Every transaction imported for the customer's accounts, oldest first, streamed.
    `language` (the page to read): the country's name next to its code."""
    rows = _transactions().iterator({"customer_id": customer.pk}, chunk_size=TRANSACTION_CHUNK)
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
# #24). Read as the ORM reads them (the transactions from a server-side cursor, in chunks).
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


@functools.cache
def _transactions() -> PrecompiledQuerySet:
    def build(inputs: Inputs) -> QuerySet:
        return (
            Transaction.objects.filter(account__customer_id=inputs["customer_id"])
            .order_by("account__iban", "booked_at", "transaction_id")
            .values_list(*TRANSACTION_FIELDS)
        )

    return precompile_queryset(build, CUSTOMER_SAMPLES)


def export_sections(
    *, customer, language: str | None = None, **_signal
) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: the bank's records in the customer's export
    (`language`: for the page to read, names next to codes)."""
    return [
        ("accounts", accounts_for_export(customer, language)),
        ("holdings", holdings_for_export(customer, language)),
        ("transactions", transactions_for_export(customer, language)),
    ]
