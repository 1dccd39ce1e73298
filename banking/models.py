"""The bank's own records that the offers engine may read, only through its consent gate:
customers' accounts, the products they hold, their transactions (partitioned by booking
month), and the catalogue of the bank's products.

Integrity lives in the database: kinds, amounts, currencies and codes are CHECK
constraints; transactions are append-only for everyone but retention's owner functions.
"""

import datetime as dt
from typing import NamedTuple

import pgtrigger
from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from consent.models import Customer
from infra.languages import in_language


class Product(models.Model):
    """One of the bank's own products. Offers are only ever for these."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_nl = models.CharField(_("naam (Nederlands)"), max_length=120)
    name_en = models.CharField(_("naam (Engels)"), max_length=120)
    # The product's key facts as the customer reads them next to an offer: one fact per
    # line (price, conditions, how to stop).
    facts_nl = models.TextField(_("kernpunten (Nederlands)"), blank=True)
    facts_en = models.TextField(_("kernpunten (Engels)"), blank=True)

    class Meta:
        db_table = "offers_product"
        ordering = ["code"]
        verbose_name = _("product")
        verbose_name_plural = _("producten")

    def __str__(self):
        return self.code

    def name(self, language: str) -> str:
        return in_language(self, "name", language)

    def facts(self, language: str) -> list[str]:
        text = in_language(self, "facts", language)
        return [line for line in text.splitlines() if line.strip()]


class AccountKind(models.TextChoices):
    CHECKING = "checking", _("betaalrekening")
    SAVINGS = "savings", _("spaarrekening")
    STUDENT = "student", _("studentenrekening")


# An account of a kind counts as holding this product (README, Commands).
PRODUCT_OF_ACCOUNT_KIND = {
    AccountKind.CHECKING: "checking_account",
    AccountKind.SAVINGS: "savings_account",
    AccountKind.STUDENT: "student_account",
}


@pgtrigger.register(
    # Accounts are closed, never deleted: transactions and offers refer to them.
    pgtrigger.Protect(name="accounts_are_never_deleted", operation=pgtrigger.Delete)
)
class Account(models.Model):
    iban = models.CharField(_("IBAN"), max_length=34, unique=True)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("klant")
    )
    kind = models.CharField(_("soort"), max_length=10, choices=AccountKind.choices)
    balance = models.DecimalField(_("saldo"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("valuta"), max_length=3, default="EUR")

    class Meta:
        db_table = "offers_account"
        ordering = ["iban"]
        verbose_name = _("rekening")
        verbose_name_plural = _("rekeningen")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=AccountKind.values), name="account_kind_known"
            ),
            models.CheckConstraint(
                condition=models.Q(iban__regex=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"),
                name="account_iban_shape",
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"), name="account_currency_code"
            ),
        ]

    def __str__(self):
        return self.iban


class Holding(models.Model):
    """A product the customer has that is not an account (e.g. an insurance)."""

    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="holdings", verbose_name=_("klant")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("product")
    )

    class Meta:
        db_table = "offers_holding"
        verbose_name = _("productbezit")
        verbose_name_plural = _("productbezit")
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="one_holding_per_product")
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.product_id}"


class Transaction(models.Model):
    """A booked payment, keyed by the bank's transaction id (README, Commands).

    `mcc` is empty (NULL) for payments that are not card payments.

    Partitioned by booking month (README, Runs and workers; migration 0010): one table per calendar
    month in Amsterdam, `offers_transaction_yYYYYmMM` (`transaction_partitions()`), so
    a window reads only its months and retention drops whole months. PostgreSQL wants the month's
    column in every unique index, hence the key (transaction_id, booked_at); that a
    transaction id is unique across months as well is checked by `import_transactions`,
    the only writer, set-based under its lock.
    """

    pk = models.CompositePrimaryKey("transaction_id", "booked_at")
    # Byte order: ids are compared and sorted by the million (keys, duplicate checks)
    # and never shown in alphabetical order; this makes that about twice as fast.
    transaction_id = models.CharField(_("transactie-id"), max_length=64, db_collation="C")
    # Not a PostgreSQL foreign key: Django makes those DEFERRABLE INITIALLY DEFERRED, and
    # checking ten million rows one by one at COMMIT costs about a minute (README, Benchmarks).
    # The reference still holds: the import resolves `account` by joining on the IBAN in
    # the same statement that inserts, and accounts can never be deleted (the trigger on
    # Account). No separate index on account alone: (account, booked_at) serves the
    # customer-level reads and a gate run chunked by customer range (README, Runs and workers).
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
        db_constraint=False,
        verbose_name=_("rekening"),
    )
    booked_at = models.DateTimeField(_("geboekt op"))
    amount = models.DecimalField(_("bedrag"), max_digits=14, decimal_places=2)
    currency = models.CharField(_("valuta"), max_length=3)
    counterparty_name = models.CharField(_("naam tegenpartij"), max_length=200, blank=True)
    counterparty_iban = models.CharField(_("IBAN tegenpartij"), max_length=34, blank=True)
    mcc = models.CharField(_("soort winkel (MCC)"), max_length=4, null=True, blank=True)
    country = models.CharField(_("land"), max_length=2)
    description = models.CharField(_("omschrijving"), max_length=500, blank=True)

    class Meta:
        db_table = "offers_transaction"
        verbose_name = _("transactie")
        verbose_name_plural = _("transacties")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(mcc__isnull=True) | models.Q(mcc__regex=r"^[0-9]{4}$"),
                name="transaction_mcc_four_digits",
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="transaction_country_code"
            ),
            models.CheckConstraint(
                condition=models.Q(currency__regex=r"^[A-Z]{3}$"),
                name="transaction_currency_code",
            ),
        ]
        indexes = [models.Index(fields=["account", "booked_at"], name="transaction_by_account")]

    def __str__(self):
        return self.transaction_id


class Partition(NamedTuple):
    """(name, from, to) of one monthly partition of transactions."""

    name: str
    start: dt.datetime  # the first instant it holds
    end: dt.datetime  # the first instant it no longer holds


def transaction_partitions() -> list[Partition]:
    """Every monthly partition of transactions, oldest first, with its bounds as the
    database has them. A migration made those of 2025 to 2027 and `import_transactions`
    makes the months a file needs (the owner's functions, infra/dbroles.py
    `MonthlyPartitions`); retention detaches and drops whole months."""
    with connection.cursor() as cursor:
        cursor.execute(
            r"""
            SELECT c.relname, bound[1]::timestamptz, bound[2]::timestamptz
              FROM pg_inherits i
              JOIN pg_class c ON c.oid = i.inhrelid
             CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                             'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS bound
             WHERE i.inhparent = %s::regclass
             ORDER BY 2
            """,
            [Transaction._meta.db_table],
        )
        return [Partition(*row) for row in cursor.fetchall()]


def ensure_transaction_months(moments) -> None:
    """Make the monthly partitions these booking moments fall in (the owner's function
    makes a missing month; the runtime role cannot). For writers other than
    `import_transactions`, which does this itself: the demo data."""
    table = Transaction._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ensure_{table}_partition(m) FROM (SELECT DISTINCT {table}_month_of(t) AS m"
            " FROM unnest(%s::timestamptz[]) t) months",
            [list(moments)],
        )
