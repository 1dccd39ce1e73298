"""The consent change feed and who read it.

`ConsentChange` is append-only: one row per change in whether the bank may use a
customer's data for a purpose, numbered by a bigserial id that is the feed's cursor.
`FeedRead` is the log of every read by the bank's systems, for the privacy officer.
Both refuse UPDATE and DELETE through triggers, like the consent ledger.
`ClientChange` is a proposed OAuth client or change to one, awaiting a second officer.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from consent.models import Customer, Purpose
from ledger.models import ConsentEvent


class ChangeKind(models.TextChoices):
    # Ledger events (written in the transaction that records the event).
    GRANTED = "granted", _("toestemming gegeven")
    # A grant on the version of a consent that still counted (`consent.renewals`): the
    # ledger's `granted`; here its own kind, with the later `valid_until`.
    RENEWED = "renewed", _("toestemming verlengd")
    WITHDRAWN = "withdrawn", _("toestemming ingetrokken")
    OBJECTED = "objected", _("bezwaar tegen direct marketing")
    OBJECTION_LIFTED = "objection_lifted", _("bezwaar opgeheven")
    # Changes that are not events (`api.changes.DERIVED_CHANGES`, by `record_consent_changes`).
    EXPIRED = "expired", _("verlopen (maximale bewaarduur)")
    MATERIAL_VERSION = "material_version", _("nieuwe tekst met wezenlijke wijziging")
    TURNED_16 = "turned_16", _("leeftijd (16 jaar)")
    # The customer left the bank: the system's withdrawals when they left, and
    # any consent that stopped counting because they did.
    LEFT_BANK = "left_bank", _("klant is vertrokken")
    # The feed said otherwise than the ledger (e.g. consents recorded before the feed
    # existed): this row puts it right.
    RECONCILED = "reconciled", _("rechtgezet")
    # The database was restored from an older backup: changes a follower read may be
    # gone. About no customer; the follower takes a snapshot again (`valid-customers`).
    RESNAPSHOT = "resnapshot", _("neem opnieuw een momentopname")


@pgtrigger.register(
    pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class ConsentChange(models.Model):
    """After this change, the bank may (or may no longer) use the customer for the purpose.

    The id is the cursor: rows become visible in id order (`api.changes` takes one lock
    before writing, held until commit), so a reader that has seen id N has seen every
    row below N, and a cursor never skips a change.
    """

    id = models.BigAutoField(primary_key=True)
    # Empty only for a `resnapshot` marker, which is about no customer or purpose.
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    purpose = models.ForeignKey(
        Purpose, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    may_use = models.BooleanField(null=True)
    kind = models.CharField(max_length=20, choices=ChangeKind.choices)
    # When the change took effect (the event's time, the day a consent expired, the
    # moment a material version was published); rows are ordered by id, not by this.
    effective_at = models.DateTimeField()
    recorded_at = models.DateTimeField()
    # For a consent that counts: its last valid day unless renewed (the card's "geldig
    # tot en met"), so a follower can stop on time even before the expiry row arrives.
    valid_until = models.DateField(null=True, blank=True)
    # The ledger event behind an event row. No database constraint: the feed is a record
    # of what was announced and outlives a ledger row removed by retention (README,
    # Retention and erasure).
    event = models.ForeignKey(
        ConsentEvent,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ChangeKind.values), name="change_kind_known"
            ),
            # A marker names nobody; every other change names its customer and purpose.
            models.CheckConstraint(
                condition=models.Q(
                    kind=ChangeKind.RESNAPSHOT,
                    customer__isnull=True,
                    purpose__isnull=True,
                    may_use__isnull=True,
                )
                | (
                    ~models.Q(kind=ChangeKind.RESNAPSHOT)
                    & models.Q(customer__isnull=False, purpose__isnull=False, may_use__isnull=False)
                ),
                name="change_names_customer_unless_marker",
            ),
            # An event is written into the feed once per purpose it is about.
            models.UniqueConstraint(
                fields=["event", "purpose"],
                condition=models.Q(event__isnull=False),
                name="one_change_per_event_and_purpose",
            ),
        ]
        indexes = [
            # What the feed last said per customer and purpose.
            models.Index(fields=["customer", "purpose", "-id"], name="change_latest_per_pair"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.customer_id}/{self.purpose_id} {self.kind} {self.may_use}"


class FeedEndpoint(models.TextChoices):
    CHANGES = "consent-changes", _("wijzigingen")
    VALID_CUSTOMERS = "valid-customers", _("momentopname geldige toestemmingen")
    MAY_USE = "may-use", _("controle per klant")


@pgtrigger.register(
    pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)
)
class FeedRead(models.Model):
    """One read of the feed, a snapshot or a check by one of the bank's systems: who, what,
    when.

    The client is copied as text, so the log outlives a client that is removed.
    """

    read_at = models.DateTimeField(db_index=True)
    client_id = models.CharField(max_length=100, db_index=True)
    client_name = models.CharField(max_length=255)
    endpoint = models.CharField(max_length=20, choices=FeedEndpoint.choices)
    purpose = models.CharField(max_length=40, blank=True)
    # The changes read: ids after `after_id` up to and including `last_id`; for a snapshot
    # `last_id` is the feed position it was taken at.
    after_id = models.BigIntegerField(null=True, blank=True)
    last_id = models.BigIntegerField(null=True, blank=True)
    rows = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-read_at", "-id"]
        verbose_name = _("uitlezing van de feed")
        verbose_name_plural = _("uitlezingen van de feed")

    def __str__(self):
        return f"{self.client_name} {self.endpoint} {self.read_at:%Y-%m-%d %H:%M}"


class ClientChangeKind(models.TextChoices):
    REGISTER = "register", _("nieuwe client")
    REDIRECT_URIS = "redirect_uris", _("andere redirect-URI's")


class ClientChangeStatus(models.TextChoices):
    PENDING = "pending", _("wacht op goedkeuring")
    APPROVED = "approved", _("goedgekeurd")
    REJECTED = "rejected", _("afgewezen")


@pgtrigger.register(
    # What was proposed never changes; a decision is final; nothing is deleted.
    pgtrigger.Protect(
        name="client_change_proposal_is_fixed",
        operation=pgtrigger.Update,
        condition=pgtrigger.AnyChange(
            "kind",
            "client_id",
            "name",
            "client_type",
            "authorization_grant_type",
            "redirect_uris",
            "previous_redirect_uris",
            "client_secret_hash",
            "proposed_by",
            "proposed_at",
        ),
    ),
    pgtrigger.Protect(
        name="client_change_decision_is_final",
        operation=pgtrigger.Update,
        condition=~pgtrigger.Q(old__status="pending"),
    ),
    pgtrigger.Protect(name="client_changes_are_kept", operation=pgtrigger.Delete),
)
class ClientChange(models.Model):
    """A proposed OAuth client, or new redirect URIs for one (`api.clients`): nothing
    takes effect until another privacy officer approves it (four eyes), and until then
    the client does not exist, or its old URIs stay in force. The row is also the record
    of who proposed and who decided, and when."""

    kind = models.CharField(_("soort"), max_length=20, choices=ClientChangeKind.choices)
    # The client's id: a new one for a registration (it exists only once approved).
    client_id = models.CharField(_("client-id"), max_length=255, db_index=True)
    name = models.CharField(_("naam"), max_length=255)
    client_type = models.CharField(_("soort client"), max_length=32)
    authorization_grant_type = models.CharField(_("grant"), max_length=44)
    redirect_uris = models.TextField(_("redirect-URI's"), blank=True)
    # In force when the change was proposed; it is approved only while they still are.
    previous_redirect_uris = models.TextField(_("redirect-URI's tot nu toe"), blank=True)
    # A registered system's secret, hashed as django-oauth-toolkit stores it; the plain
    # secret was shown once to the proposer.
    client_secret_hash = models.CharField(max_length=255, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("voorgesteld door"),
    )
    proposed_at = models.DateTimeField(_("voorgesteld op"))
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ClientChangeStatus.choices,
        default=ClientChangeStatus.PENDING,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("besloten door"),
    )
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)

    class Meta:
        ordering = ["-proposed_at", "-id"]
        verbose_name = _("wijziging van een API-client")
        verbose_name_plural = _("wijzigingen van API-clients")
        permissions = [("approve_clientchange", _("Wijzigingen van API-clients goedkeuren"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ClientChangeKind.values), name="client_change_kind"
            ),
            models.CheckConstraint(
                condition=models.Q(status=ClientChangeStatus.PENDING, decided_by__isnull=True)
                | models.Q(
                    status__in=[ClientChangeStatus.APPROVED, ClientChangeStatus.REJECTED],
                    decided_by__isnull=False,
                    decided_at__isnull=False,
                ),
                name="client_change_decided_by_someone",
            ),
            # Four eyes: nobody approves their own proposal (withdrawing it is fine).
            models.CheckConstraint(
                condition=~models.Q(status=ClientChangeStatus.APPROVED)
                | ~models.Q(decided_by=models.F("proposed_by")),
                name="client_change_approved_by_another",
            ),
            models.UniqueConstraint(
                fields=["client_id"],
                condition=models.Q(status=ClientChangeStatus.PENDING),
                name="one_pending_change_per_client",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}: {self.name} ({self.get_status_display()})"


class IdempotentRequest(models.Model):
    """A POST sent with an `Idempotency-Key`, and the answer it got (`api.idempotency`).

    Scoped to the token holder: the OAuth client and, for the bank's app, the customer who
    gave it the token. A repeat with the same key gets this answer again and does nothing;
    rows are kept `IDEMPOTENCY_KEYS_KEPT_HOURS` and then pruned
    (`prune_idempotency_keys`)."""

    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", null=True
    )
    key = models.CharField(max_length=255)
    # The request's fingerprint: the same key with another request is refused (422).
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2000)
    body_sha256 = models.CharField(max_length=64)
    # The first answer, as the client got it (JSON text, so the keys keep their order).
    status = models.PositiveSmallIntegerField(null=True)
    response_body = models.TextField(blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("herhaalbaar verzoek")
        verbose_name_plural = _("herhaalbare verzoeken")
        constraints = [
            # One per holder and key; a client token (no user) is one holder too.
            models.UniqueConstraint(
                fields=["application", "user", "key"],
                name="one_request_per_holder_and_key",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"


class RevokedBy(models.TextChoices):
    CUSTOMER = "customer", _("door u ingetrokken")
    LEFT_BANK = "left_bank", _("ingetrokken toen u klant af was")


class LinkedApp(models.Model):
    """One customer's access for one app (an authorization-code client), from the first
    token it got until the access was revoked (`api.linked_apps`). The customer's
    "Gekoppelde apps" page lists the open ones; the history shows both ends of each row.
    Authorising the app again after a revocation is a new row.

    Customer data: the database removes the rows with the customer (ON DELETE CASCADE),
    and retention removes them with the customer's consent chain (`proof_removed`)."""

    # CASCADE here and in the database too: the constraint is migration 0013's own, ON
    # DELETE CASCADE, so a customer's row removed by SQL takes these rows with it. (Django's
    # DB_CASCADE cannot be mixed with the Python-level deletes of the models it points to.)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="+"
    )
    authorised_at = models.DateTimeField()
    # What the app may do: the scopes of its newest token (space-separated, as OAuth says).
    scope = models.TextField(blank=True)
    # The last API request with one of its tokens, written at most once a minute.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.CharField(max_length=10, choices=RevokedBy.choices, blank=True)

    class Meta:
        verbose_name = _("gekoppelde app")
        verbose_name_plural = _("gekoppelde apps")
        constraints = [
            # One open access per customer and app: a second token adds nothing.
            models.UniqueConstraint(
                fields=["customer", "application"],
                condition=models.Q(revoked_at__isnull=True),
                name="one_open_link_per_customer_and_app",
            ),
            models.CheckConstraint(
                condition=models.Q(revoked_at__isnull=True, revoked_by="")
                | models.Q(
                    revoked_at__isnull=False,
                    revoked_by__in=RevokedBy.values,
                    revoked_at__gte=models.F("authorised_at"),
                ),
                name="link_revoked_by_someone_after_it_began",
            ),
        ]
        indexes = [models.Index(fields=["customer", "-authorised_at"], name="link_per_customer")]

    def __str__(self) -> str:
        return f"{self.customer_id} → {self.application_id} ({self.authorised_at:%Y-%m-%d})"


# Signed webhooks: their own module, part of this app's models.
from .webhook_models import (  # noqa: E402
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "ChangeKind",
    "ClientChange",
    "ClientChangeKind",
    "ClientChangeStatus",
    "ConsentChange",
    "DeliveryStatus",
    "FeedEndpoint",
    "FeedRead",
    "IdempotentRequest",
    "LinkedApp",
    "RevokedBy",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
