"""Signed webhooks (`api.webhooks`): an endpoint of one of the bank's systems, each feed
row's delivery to it, and every attempt to deliver it.

Imported by `api.models` (the app's models module); kept apart so that file stays about
the feed itself.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .models import ConsentChange


class WebhookEndpoint(models.Model):
    """Where one of the bank's systems wants the feed pushed to, and the secret its
    deliveries are signed with.

    Registered by a privacy officer; it receives nothing until another privacy officer
    approves it (four eyes: a new destination for customer data, like a new client).
    Disabling takes one officer (it only takes data away) and is final. The URL never
    changes: another URL is another endpoint.
    """

    application = models.ForeignKey(
        "oauth2_provider.Application",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("systeem (API-client)"),
    )
    url = models.URLField(_("URL"), max_length=2000)
    # The signing secret, `whsec_` + base64 of random bytes (Standard Webhooks). Shown once
    # to the officer who registered or rotated it; kept, because signing needs it.
    secret = models.CharField(max_length=200)
    # After a rotation the old secret signs too, until `previous_secret_until`, so the
    # receiver can switch without losing a delivery.
    previous_secret = models.CharField(max_length=200, blank=True)
    previous_secret_until = models.DateTimeField(null=True, blank=True)
    # The feed position up to which rows have been made into deliveries (the endpoint
    # follows the feed like any client: from its approval on).
    after_id = models.BigIntegerField(_("tot en met feed-id"), default=0)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("geregistreerd door"),
    )
    registered_at = models.DateTimeField(_("geregistreerd op"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("goedgekeurd door"),
    )
    approved_at = models.DateTimeField(_("goedgekeurd op"), null=True, blank=True)
    secret_rotated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("secret laatst vernieuwd door"),
    )
    secret_rotated_at = models.DateTimeField(_("secret laatst vernieuwd op"), null=True, blank=True)
    disabled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uitgeschakeld door"),
    )
    disabled_at = models.DateTimeField(_("uitgeschakeld op"), null=True, blank=True)

    class Meta:
        ordering = ["-registered_at", "-id"]
        verbose_name = _("webhook-endpoint")
        verbose_name_plural = _("webhook-endpoints")
        permissions = [("approve_webhookendpoint", _("Webhook-endpoints goedkeuren"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True, approved_at__isnull=True)
                | models.Q(approved_by__isnull=False, approved_at__isnull=False),
                name="webhook_approved_by_someone",
            ),
            # Four eyes: nobody approves their own endpoint.
            models.CheckConstraint(
                condition=models.Q(approved_by__isnull=True)
                | ~models.Q(approved_by=models.F("registered_by")),
                name="webhook_approved_by_another",
            ),
            models.CheckConstraint(
                condition=models.Q(disabled_by__isnull=True, disabled_at__isnull=True)
                | models.Q(disabled_by__isnull=False, disabled_at__isnull=False),
                name="webhook_disabled_by_someone",
            ),
            models.CheckConstraint(
                condition=models.Q(secret__startswith="whsec_"),  # noqa: S106 (a prefix)
                name="webhook_secret_format",
            ),
        ]

    def __str__(self):
        return self.url

    @property
    def is_active(self) -> bool:
        return self.approved_at is not None and self.disabled_at is None


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("wordt verzonden")
    DELIVERED = "delivered", _("afgeleverd")
    FAILED = "failed", _("mislukt")
    CANCELLED = "cancelled", _("geannuleerd: endpoint uitgeschakeld")


class WebhookDelivery(models.Model):
    """One feed row for one endpoint: sent until the receiver answers 2xx, or given up
    after the last retry (`api.webhooks.RETRY_AFTER`)."""

    # Both go with the database's ON DELETE CASCADE (migration 0011, `CASCADES`): a
    # delivery goes when the feed's row goes (retention, through the owner's function,
    # which Django's collector never sees), and with its endpoint. Django itself may not
    # declare a database cascade towards models with Python-level ones.
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="deliveries",
    )
    # A row of the bank's feed, or, for a data user's endpoint, of its own feed
    # (`access.AccessChange`): exactly one (migration 0015; cascades in the database too).
    change = models.ForeignKey(
        ConsentChange,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    access_change = models.ForeignKey(
        "access.AccessChange",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        null=True,
        blank=True,
    )
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("pogingen"), default=0)
    # When it is next sent (a worker that takes it moves this on by the lease, so no
    # other worker sends it meanwhile); empty once delivered or failed.
    due_at = models.DateTimeField(_("volgende poging"), null=True, blank=True)
    created_at = models.DateTimeField(_("aangemaakt op"))
    finished_at = models.DateTimeField(_("afgerond op"), null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("webhook-aflevering")
        verbose_name_plural = _("webhook-afleveringen")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "change"], name="one_delivery_per_row"),
            models.UniqueConstraint(
                fields=["endpoint", "access_change"], name="one_delivery_per_access_row"
            ),
            models.CheckConstraint(
                condition=models.Q(change__isnull=False, access_change__isnull=True)
                | models.Q(change__isnull=True, access_change__isnull=False),
                name="webhook_delivery_of_one_row",
            ),
            models.CheckConstraint(
                condition=models.Q(status=DeliveryStatus.PENDING, due_at__isnull=False)
                | models.Q(
                    ~models.Q(status=DeliveryStatus.PENDING),
                    due_at__isnull=True,
                    finished_at__isnull=False,
                ),
                name="webhook_pending_is_due",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=models.Q(status="pending"),
                name="webhook_delivery_due",
            )
        ]

    def __str__(self):
        return f"#{self.change_id or self.access_change_id} → {self.endpoint_id} ({self.status})"


class WebhookAttempt(models.Model):
    """One attempt to deliver: when, how the receiver answered, how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.DB_CASCADE, related_name="attempt_log"
    )
    number = models.PositiveSmallIntegerField(_("poging"))
    attempted_at = models.DateTimeField(_("verzonden op"), db_index=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP-status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duur (ms)"))
    error = models.TextField(_("fout"), blank=True)
    # The start of the receiver's answer (`api.webhooks.RESPONSE_KEPT` characters).
    response = models.TextField(_("antwoord"), blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("webhook-poging")
        verbose_name_plural = _("webhook-pogingen")

    def __str__(self):
        return f"{self.delivery_id} #{self.number}: {self.status_code or self.error[:40]}"
