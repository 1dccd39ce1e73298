"""The customer's offers and banking data in `/export.json` (README, /export.json; GDPR Art. 15).

Every section is an iterator: the export streams it. Transactions go through a
server-side cursor in chunks, so a customer with years of payments is never all in
memory. Only this customer's rows: every query filters on the customer.

This module reads accounts, holdings and transactions for the customer's own copy of
their data, never for offers (the architecture test names it as the one exception to
"only the gate reads banking data").
"""

from consent.export import iso_utc

from .customer import data_uses
from .models import Account, Holding, Offer, Transaction

TRANSACTION_CHUNK = 2000


def offers_for_export(customer):
    language = customer.language
    offers = (
        Offer.objects.filter(customer=customer)
        .select_related("product")
        .order_by("created_at", "pk")
    )
    for offer in offers:
        yield {
            "id": offer.pk,
            "product": offer.product.code,
            "rule": offer.rule,
            "status": offer.status,
            "explanation": offer.explanation(language),
            "evidence": offer.evidence(language),
            "created_at": offer.created_at.isoformat(),
        }


def accounts_for_export(customer):
    for iban, kind, balance, currency in (
        Account.objects.filter(customer=customer)
        .order_by("iban")
        .values_list("iban", "kind", "balance", "currency")
    ):
        yield {"iban": iban, "kind": kind, "balance": str(balance), "currency": currency}


def holdings_for_export(customer):
    for (code,) in (
        Holding.objects.filter(customer=customer)
        .order_by("product__code")
        .values_list("product__code")
    ):
        yield {"product": code}


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


def transactions_for_export(customer):
    """Every transaction imported for the customer's accounts, oldest first, streamed."""
    rows = (
        Transaction.objects.filter(account__customer=customer)
        .order_by("account__iban", "booked_at", "transaction_id")
        .values_list(*TRANSACTION_FIELDS)
        .iterator(chunk_size=TRANSACTION_CHUNK)
    )
    for tid, iban, booked_at, amount, currency, name, other_iban, mcc, country, text in rows:
        yield {
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


def data_use_for_export(customer):
    """The data-use log: each time the offers engine read the customer's data."""
    for shown in data_uses(customer, language=customer.language):
        use = shown.use
        yield {
            "run": use.run_id,
            "read_at": iso_utc(shown.read_at),
            "purpose": shown.purpose_code,
            "consent_event_id": use.consent_event_id,
            "features": list(use.features),
            "window_days": use.window_days,
            "description": shown.data_read,
            "offered": shown.offered,
        }
