"""The bank's records in the customer's export (GDPR Art. 15 and 20): accounts, products
held and transactions. Every section is an iterator; transactions go through a
server-side cursor in chunks, so years of payments are never all in memory. Only this
customer's rows: every query filters on the customer. This reads the bank's records for
the customer's own copy of their data, never for offers (the architecture test names it
as the one exception to "only the gate reads banking data")."""

from consent.export import iso_utc

from .models import Account, Holding, Transaction


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


def export_sections(*, customer, **_signal) -> list[tuple[str, object]]:
    """`consent.signals.export_sections`: the bank's records in the customer's export."""
    return [
        ("accounts", accounts_for_export(customer)),
        ("holdings", holdings_for_export(customer)),
        ("transactions", transactions_for_export(customer)),
    ]
