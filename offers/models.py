"""Banking data the engine may read, the bank's products, and the offers it makes.

Banking data (`Account`, `Holding`, `Transaction`) is read for offers only through
`offers.gate`, which joins valid consent into its SQL (DESIGN §6); an architecture test
keeps it that way. Integrity lives in the database: kinds, statuses, amounts and codes
are CHECK constraints, and "one open offer per customer and product" is a partial
unique index, so an interrupted or concurrent engine run cannot create a second one.
"""

import datetime as dt
from typing import NamedTuple

import pgtrigger
from django.conf import settings
from django.db import connection, models
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentEvent, Customer
from consent.validity import valid_consents


class Product(models.Model):
    """One of the bank's own products. Offers are only ever for these."""

    code = models.SlugField(max_length=40, unique=True)
    name_nl = models.CharField(max_length=120)
    name_en = models.CharField(max_length=120)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return self.code

    def name(self, language: str) -> str:
        return self.name_en if language == "en" else self.name_nl


class AccountKind(models.TextChoices):
    CHECKING = "checking", _("betaalrekening")
    SAVINGS = "savings", _("spaarrekening")
    STUDENT = "student", _("studentenrekening")


# An account of a kind counts as holding this product (DESIGN §8).
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
    iban = models.CharField(max_length=34, unique=True)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=10, choices=AccountKind.choices)
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")

    class Meta:
        ordering = ["iban"]
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

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="holdings")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "product"], name="one_holding_per_product")
        ]

    def __str__(self):
        return f"{self.customer_id}: {self.product_id}"


class Transaction(models.Model):
    """A booked payment, keyed by the bank's transaction id (DESIGN §8).

    `mcc` is empty (NULL) for payments that are not card payments.

    Partitioned by booking month (DESIGN §13; migration 0007): one table per calendar
    month in Amsterdam, `offers_transaction_yYYYYmMM` (`transaction_partitions()`), so
    a window reads only its months and retention drops whole months. PostgreSQL wants the month's
    column in every unique index, hence the key (transaction_id, booked_at); that a
    transaction id is unique across months as well is checked by `import_transactions`,
    the only writer, set-based under its lock.
    """

    pk = models.CompositePrimaryKey("transaction_id", "booked_at")
    # Byte order: ids are compared and sorted by the million (keys, duplicate checks)
    # and never shown in alphabetical order; this makes that about twice as fast.
    transaction_id = models.CharField(max_length=64, db_collation="C")
    # Not a PostgreSQL foreign key: Django makes those DEFERRABLE INITIALLY DEFERRED, and
    # checking ten million rows one by one at COMMIT costs about a minute (DESIGN §12).
    # The reference still holds: the import resolves `account` by joining on the IBAN in
    # the same statement that inserts, and accounts can never be deleted (the trigger on
    # Account). No separate index on account alone: (account, booked_at) serves the
    # customer-level reads and a gate run chunked by customer range (DESIGN §13).
    account = models.ForeignKey(
        Account,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
        db_constraint=False,
    )
    booked_at = models.DateTimeField()
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3)
    counterparty_name = models.CharField(max_length=200, blank=True)
    counterparty_iban = models.CharField(max_length=34, blank=True)
    mcc = models.CharField(max_length=4, null=True, blank=True)
    country = models.CharField(max_length=2)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
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
    makes the months a file needs (the owner's functions, consent/dbroles.py
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


class RunStatus(models.TextChoices):
    RUNNING = "running", _("bezig")
    FINISHED = "finished", _("klaar")
    FAILED = "failed", _("mislukt")
    INTERRUPTED = "interrupted", _("onderbroken")


class OfferRun(models.Model):
    """One `generate_offers` run: what it looked at and what it did, per rule."""

    as_of = models.DateField()
    rules = models.JSONField(default=list)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING)
    # {rule code: {"considered": n, "candidates": n, "offered": n, "suppressed_by_policy": n}}
    counts = models.JSONField(default=dict)
    expired = models.PositiveIntegerField(default=0)
    retracted = models.PositiveIntegerField(default=0)
    # Customer-id slices done, e.g. [[1, 50000], [50001, 100000]] (DESIGN §13).
    chunks_done = models.JSONField(default=list)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=RunStatus.values), name="run_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(finished_at__isnull=True)
                | models.Q(finished_at__gte=models.F("started_at")),
                name="run_finishes_after_start",
            ),
        ]

    def __str__(self):
        return f"run {self.pk} as of {self.as_of} ({self.status})"


class OfferStatus(models.TextChoices):
    PROPOSED = "proposed", _("voorgesteld")
    APPROVED = "approved", _("goedgekeurd")
    REJECTED = "rejected", _("afgewezen")
    DISMISSED = "dismissed", _("niet geïnteresseerd")
    ACCEPTED = "accepted", _("geïnteresseerd")
    RETRACTED = "retracted", _("ingetrokken")
    EXPIRED = "expired", _("verlopen")


# Open: the customer has not answered yet, so it may still be shown (DESIGN §7 policy).
OPEN_STATUSES = (OfferStatus.PROPOSED, OfferStatus.APPROVED)


class OfferQuerySet(models.QuerySet):
    def consent_still_valid(self, *, at: dt.datetime):
        """Offers every consent event of which is still the customer's valid consent at
        `at` (checked again at review and at display time, in the same SQL).

        The event itself must be the current, valid state: a consent withdrawn and given
        again is a new choice, and an offer made on the old one does not count.
        """
        relied = Offer.relied_on.through.objects.filter(offer_id=OuterRef("pk"))
        lapsed = relied.exclude(
            Exists(valid_consents(at=at).filter(event_id=OuterRef("consentevent_id")))
        )
        return self.filter(Exists(relied)).exclude(Exists(lapsed))

    def shown_to_customers(self, *, at: dt.datetime):
        """What a customer sees on `/offers/`: approved, not past its date, consent valid."""
        return self.filter(
            status=OfferStatus.APPROVED, valid_until__gte=timezone.localdate(at)
        ).consent_still_valid(at=at)


class Offer(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="offers")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="offers")
    rule = models.CharField(max_length=40)
    run = models.ForeignKey(OfferRun, on_delete=models.PROTECT, related_name="offers")
    as_of = models.DateField()
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.PROPOSED
    )
    explanation_nl = models.TextField()
    explanation_en = models.TextField()
    # What the customer reads: their own details ("balance € 12.500,00").
    evidence_nl = models.CharField(max_length=300)
    evidence_en = models.CharField(max_length=300)
    # What staff read: banded, never an exact amount ("balance above € 10.000").
    staff_evidence_nl = models.CharField(max_length=300)
    staff_evidence_en = models.CharField(max_length=300)
    relied_on = models.ManyToManyField(
        ConsentEvent,
        related_name="+",
        help_text=_("The consent events this offer relied on; withdrawing one retracts it."),
    )
    created_at = models.DateTimeField()
    valid_until = models.DateField()
    status_changed_at = models.DateTimeField()
    # Who last acted on the offer in the review queue, and when (DESIGN §7: a person looks
    # at every offer before a customer sees it; the bank must be able to say who).
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(blank=True)

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=OfferStatus.values), name="offer_status_known"
            ),
            models.UniqueConstraint(
                fields=["customer", "product"],
                condition=models.Q(status__in=[s.value for s in OPEN_STATUSES]),
                name="one_open_offer_per_product",
            ),
            # What makes a rerun for the same as-of date a no-op.
            models.UniqueConstraint(
                fields=["customer", "rule", "as_of"], name="one_offer_per_rule_and_day"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=OfferStatus.REJECTED) | ~models.Q(rejection_reason=""),
                name="rejection_needs_reason",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("as_of")),
                name="offer_valid_after_as_of",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="offer_queue")]
        permissions = [("review_offer", _("Can approve or reject offers in the review queue"))]

    def __str__(self):
        return f"{self.rule} for {self.customer_id} ({self.status})"

    def explanation(self, language: str) -> str:
        return self.explanation_en if language == "en" else self.explanation_nl

    def evidence(self, language: str) -> str:
        return self.evidence_en if language == "en" else self.evidence_nl

    def staff_evidence(self, language: str) -> str:
        return self.staff_evidence_en if language == "en" else self.staff_evidence_nl
