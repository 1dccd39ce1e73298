"""Data users, their permissions and every read.

- `DataUser`: a party registered by the privacy officer (name, licence, country,
  contact), connecting through one OAuth client (client credentials). Suspended, it reads
  nothing, at once: the gate checks its status inside the read's SQL.
- `Permission`: a Berlin Group consent resource. Asked for through the API (`received`),
  approved (`valid`) or refused (`rejected`) by the customer on our site, ended by the
  customer or the contact centre for them (`revokedByPsu`) or by the data user
  (`terminatedByTpp`). `expired` is never stored: a valid permission past its
  `valid_until` is expired, judged when it is read (as a consent's validity is).
  The approval is bound to the exact text shown (`text`, `text_sha256`), which the
  ledger event names (`access.actions`).
- `PermittedAccount`: which of the customer's accounts, and which data of each, fixed at
  approval; the gate reads only these.
- `Read`: every read the data user made, written in the read's transaction.
"""

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from banking.models import Account
from consent.models import Customer
from ledger.models import ConsentEvent

# The Berlin Group's limits: a permission lasts at most 180 days (PSD2 RTS art. 10 as
# amended, 2022/2360), and a data user reads unattended at most 4 times a day by default.
MAX_VALID_DAYS = 180
MAX_FREQUENCY_PER_DAY = 4
# How far back transactions may be read: the 90 days before approval (RTS art. 10).
HISTORY_DAYS = 90


class DataUserStatus(models.TextChoices):
    ACTIVE = "active", _("actief")
    SUSPENDED = "suspended", _("geschorst")


class DataUser(models.Model):
    name = models.CharField(_("naam"), max_length=200)
    registration_number = models.CharField(_("registratie- of vergunningnummer"), max_length=60)
    country = models.CharField(_("land"), max_length=2)
    contact = models.CharField(_("contact"), max_length=200)
    status = models.CharField(
        _("status"), max_length=10, choices=DataUserStatus.choices, default=DataUserStatus.ACTIVE
    )
    # Why it was suspended, in words the customer reads on their dashboard.
    suspended_reason = models.TextField(_("reden van schorsing"), blank=True)
    suspended_at = models.DateTimeField(_("geschorst op"), null=True, blank=True)
    # Its OAuth client (client credentials): a token of it reads only its own permissions.
    application = models.OneToOneField(
        "oauth2_provider.Application",
        on_delete=models.PROTECT,
        related_name="data_user",
        verbose_name=_("OAuth-client"),
    )
    registered_at = models.DateTimeField(_("geregistreerd op"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("andere partij")
        verbose_name_plural = _("andere partijen (gegevensgebruikers)")
        permissions = [("suspend_datauser", _("Mag een andere partij schorsen"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=DataUserStatus.values), name="data_user_status_known"
            ),
            models.CheckConstraint(
                condition=models.Q(country__regex=r"^[A-Z]{2}$"), name="data_user_country_code"
            ),
            models.CheckConstraint(
                condition=models.Q(status=DataUserStatus.ACTIVE)
                | (models.Q(suspended_at__isnull=False) & ~models.Q(suspended_reason="")),
                name="data_user_suspended_with_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PermissionStatus(models.TextChoices):
    """Berlin Group's `consentStatus`, as stored (`expired` is judged when read)."""

    RECEIVED = "received", _("aangevraagd")
    VALID = "valid", _("geldig")
    REJECTED = "rejected", _("geweigerd")
    REVOKED_BY_PSU = "revokedByPsu", _("ingetrokken door de klant")
    TERMINATED_BY_TPP = "terminatedByTpp", _("beëindigd door de andere partij")


# Who ended a permission, beyond the status (the customer's page and the staff say it).
class EndedBy(models.TextChoices):
    CUSTOMER = "customer", _("door u")
    STAFF = "staff", _("door de klantenservice, op uw verzoek")
    DATA_USER = "data_user", _("door de andere partij")
    LEFT_BANK = "left_bank", _("door de bank, toen u geen klant meer was")


class Permission(models.Model):
    consent_id = models.UUIDField(_("consentId"), default=uuid.uuid4, unique=True, editable=False)
    data_user = models.ForeignKey(
        DataUser, on_delete=models.PROTECT, related_name="permissions", verbose_name=_("partij")
    )
    # Unknown until the customer logs in to decide (the data user does not know who it is).
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("klant"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=PermissionStatus.choices, default="received"
    )
    # What was asked: every payment account, or these IBANs.
    all_accounts = models.BooleanField(_("alle betaalrekeningen"))
    ibans = models.JSONField(_("gevraagde rekeningen"), default=list, blank=True)
    balances = models.BooleanField(_("saldi"))
    transactions = models.BooleanField(_("transacties"))
    valid_until = models.DateField(_("geldig tot en met"))
    frequency_per_day = models.PositiveSmallIntegerField(_("keer per dag"))
    # Why the data user asks, in its own words (shown on the approval page).
    reason = models.CharField(_("waarom"), max_length=300)
    # Where the customer goes back to after deciding (on the redirect allow-list).
    redirect_uri = models.CharField(_("terug naar"), max_length=500, blank=True)
    requested_at = models.DateTimeField(_("aangevraagd op"))
    decided_at = models.DateTimeField(_("besloten op"), null=True, blank=True)
    # Transactions booked from this moment on may be read (HISTORY_DAYS before approval).
    history_from = models.DateTimeField(_("transacties vanaf"), null=True, blank=True)
    # The text approved, its version (`access.texts.TEXT_VERSION`), language and SHA-256:
    # the ledger event's notice hash.
    text = models.TextField(_("goedgekeurde tekst"), blank=True)
    text_version = models.PositiveSmallIntegerField(_("tekstversie"), null=True, blank=True)
    text_language = models.CharField(_("taal van de tekst"), max_length=2, blank=True)
    text_sha256 = models.CharField(_("SHA-256 van de tekst"), max_length=64, blank=True)
    granted_event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gebeurtenis van de goedkeuring"),
    )
    # Reads without the customer today (Amsterdam), counted by the gate in the statement
    # that reads: the row's lock makes concurrent reads count one after the other.
    reads_on = models.DateField(_("gelezen op dag"), null=True, blank=True)
    reads_today = models.PositiveSmallIntegerField(_("keer gelezen die dag"), default=0)
    ended_at = models.DateTimeField(_("beëindigd op"), null=True, blank=True)
    ended_by = models.CharField(
        _("beëindigd door"), max_length=10, choices=EndedBy.choices, blank=True
    )
    ended_event = models.OneToOneField(
        ConsentEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("gebeurtenis van het einde"),
    )

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("toegang van een andere partij")
        verbose_name_plural = _("toegang van andere partijen")
        permissions = [
            ("withdraw_permission", _("Mag op verzoek van een klant de toegang intrekken"))
        ]
        indexes = [models.Index(fields=["customer", "status"], name="permission_per_customer")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=PermissionStatus.values),
                name="permission_status_known",
            ),
            models.CheckConstraint(
                condition=models.Q(frequency_per_day__gte=1),
                name="permission_frequency_at_least_once",
            ),
            models.CheckConstraint(
                condition=models.Q(balances=True) | models.Q(transactions=True),
                name="permission_reads_something",
            ),
            # Approved (and ended by the customer): bound to a customer, a text, an event.
            models.CheckConstraint(
                condition=~models.Q(status__in=["valid", "revokedByPsu"])
                | (
                    models.Q(customer__isnull=False, granted_event__isnull=False)
                    & ~models.Q(text_sha256="")
                ),
                name="permission_approved_is_bound",
            ),
        ]

    def __str__(self) -> str:
        return str(self.consent_id)


class PermittedAccount(models.Model):
    """One account the permission covers, and which of its data, fixed at approval."""

    resource_id = models.UUIDField(_("resourceId"), default=uuid.uuid4, unique=True)
    permission = models.ForeignKey(
        Permission, on_delete=models.CASCADE, related_name="accounts", verbose_name=_("toegang")
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="+", verbose_name=_("rekening")
    )
    balances = models.BooleanField(_("saldo"))
    transactions = models.BooleanField(_("transacties"))

    class Meta:
        verbose_name = _("rekening met toegang")
        verbose_name_plural = _("rekeningen met toegang")
        constraints = [
            models.UniqueConstraint(
                fields=["permission", "account"], name="account_once_per_permission"
            )
        ]

    def __str__(self) -> str:
        return f"{self.permission_id}: {self.account_id}"


class ReadKind(models.TextChoices):
    ACCOUNTS = "accounts", _("rekeninggegevens")
    BALANCES = "balances", _("saldo")
    TRANSACTIONS = "transactions", _("transacties")


class Read(models.Model):
    """One read by a data user, written in the transaction of the read (`access.gate`)."""

    permission = models.ForeignKey(
        Permission, on_delete=models.CASCADE, related_name="reads", verbose_name=_("toegang")
    )
    account = models.ForeignKey(
        PermittedAccount,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("rekening"),
    )
    kind = models.CharField(_("wat"), max_length=12, choices=ReadKind.choices)
    read_at = models.DateTimeField(_("gelezen op"))
    # For transactions: the period asked for, and how many rows went out.
    date_from = models.DateField(_("vanaf"), null=True, blank=True)
    date_to = models.DateField(_("tot en met"), null=True, blank=True)
    rows = models.PositiveIntegerField(_("aantal"))

    class Meta:
        ordering = ["-read_at"]
        verbose_name = _("keer gelezen door een andere partij")
        verbose_name_plural = _("keren gelezen door andere partijen")
        indexes = [models.Index(fields=["permission", "-read_at"], name="read_per_permission")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind__in=ReadKind.values), name="read_kind_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.permission_id} {self.kind} {self.read_at:%Y-%m-%d %H:%M}"


class ChangeEvent(models.TextChoices):
    APPROVED = "approved", _("goedgekeurd")
    REJECTED = "rejected", _("geweigerd")
    REVOKED_BY_PSU = "revokedByPsu", _("ingetrokken door de klant")
    TERMINATED_BY_TPP = "terminatedByTpp", _("beëindigd door de andere partij")
    SUSPENDED = "dataUserSuspended", _("partij geschorst")
    REINSTATED = "dataUserReinstated", _("schorsing opgeheven")


class AccessChange(models.Model):
    """The data user's feed: every change to one of its permissions, in order, written in
    the transaction that makes it (`access.actions`). The id is the cursor; every writer
    takes one advisory lock just before inserting, held until commit, so ids become
    visible in the order they were given (as the bank's own feed, `api.changes`)."""

    id = models.BigAutoField(primary_key=True)
    data_user = models.ForeignKey(
        DataUser, on_delete=models.CASCADE, related_name="+", verbose_name=_("partij")
    )
    permission = models.ForeignKey(
        Permission, on_delete=models.CASCADE, related_name="changes", verbose_name=_("toegang")
    )
    event = models.CharField(_("wat"), max_length=20, choices=ChangeEvent.choices)
    consent_status = models.CharField(_("status"), max_length=20)
    effective_at = models.DateTimeField(_("wanneer"))

    class Meta:
        ordering = ["id"]
        verbose_name = _("wijziging voor een andere partij")
        verbose_name_plural = _("wijzigingen voor andere partijen")
        indexes = [models.Index(fields=["data_user", "id"], name="access_change_per_data_user")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event__in=ChangeEvent.values), name="access_change_event_known"
            )
        ]

    def __str__(self) -> str:
        return f"{self.id} {self.event}"
