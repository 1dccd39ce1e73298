"""Every write about a data user's access: one function per write, keyword-only, `at`
passed in, each in one transaction with its ledger event and its audit row.

- `request_permission`: the data user asks (API); nothing in the ledger yet.
- `approve` / `refuse`: the customer decides on our site. Approving is bound to the text
  shown (`access.texts`: version and SHA-256, sent back by the page) and refused under
  16, for a customer who left, for a suspended data user or a lapsed request; it appends
  an `access_granted` event whose notice hash is the text's. Refusing writes no event:
  nothing was given, so there is nothing to prove or to withdraw.
- `withdraw` (the customer, one click), `withdraw_for_customer` (the contact centre, on
  the phone, with a `consent.StaffAction` as for any choice staff record) and
  `terminate` (the data user, DELETE): an `access_withdrawn` event on the approved text.
  Each takes effect at once: the gate reads the status inside its SQL.
- `suspend_data_user`: the privacy officer stops every read of a data user at once (the
  gate checks its status inside its SQL), with a reason the customers see.

The customer's row is locked first (`consent.choices.lock_customer`), as for any choice:
the ledger chain is per customer and never forks; then the permission's row.
"""

import datetime as dt
import uuid
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from banking.models import Account
from consent.choices import ChoiceError, CustomerClosed, TooYoung, append_event, lock_customer
from consent.models import Customer, StaffAction
from consent.validity import too_young_until
from ledger.models import Action, Channel, ConsentEvent

from .models import (
    MAX_FREQUENCY_PER_DAY,
    MAX_VALID_DAYS,
    AccessChange,
    ChangeEvent,
    DataUser,
    DataUserStatus,
    EndedBy,
    Permission,
    PermissionStatus,
    PermittedAccount,
)
from .texts import TEXT_VERSION, accounts_in_scope, approval_text, history_from, unknown_ibans

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AccessError(ChoiceError):
    """An access decision that cannot be recorded. Nothing was written."""


class NotOpen(AccessError):
    """The request was decided already, ended, or lapsed."""


class StaleText(AccessError):
    """The text on the screen is not the one the request reads as now."""


class DataUserSuspended(AccessError):
    pass


class NotYourAccounts(AccessError):
    pass


# The data user's feed (`AccessChange`): pg_advisory_xact_lock key, any constant.
FEED_LOCK = 0x26_AC_CE_55


def _tell(permissions: list[Permission], *, event: str, at: dt.datetime) -> None:
    """Rows of the data user's feed, in the caller's transaction; ids visible in order."""
    if not permissions:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
    AccessChange.objects.bulk_create(
        AccessChange(
            data_user_id=permission.data_user_id,
            permission=permission,
            event=event,
            consent_status=permission.status,
            effective_at=at,
        )
        for permission in permissions
    )


# --- The data user asks ------------------------------------------------------------------
def request_permission(
    *,
    data_user: DataUser,
    all_accounts: bool,
    ibans: list[str],
    balances: bool,
    transactions: bool,
    valid_until: dt.date,
    frequency_per_day: int,
    reason: str,
    redirect_uri: str,
    at: dt.datetime,
) -> Permission:
    """A new request (`received`). The API checked the input; the limits are checked
    again here, and by the database where it can."""
    today = timezone.localdate(at)
    if not today < valid_until <= today + dt.timedelta(days=MAX_VALID_DAYS):
        raise AccessError(_("validUntil ligt na vandaag en ten hoogste 180 dagen vooruit."))
    if not 1 <= frequency_per_day <= MAX_FREQUENCY_PER_DAY:
        raise AccessError(_("frequencyPerDay is 1 tot en met 4."))
    if data_user.status != DataUserStatus.ACTIVE:
        raise DataUserSuspended(_("Deze partij is geschorst en kan niets aanvragen."))
    return Permission.objects.create(
        data_user=data_user,
        all_accounts=all_accounts,
        ibans=sorted(set(ibans)),
        balances=balances,
        transactions=transactions,
        valid_until=valid_until,
        frequency_per_day=frequency_per_day,
        reason=reason,
        redirect_uri=redirect_uri,
        requested_at=at,
    )


# --- The customer decides ------------------------------------------------------------------
def customer_accounts(customer: Customer) -> list[Account]:
    return list(Account.objects.filter(customer=customer).order_by("iban"))


def check_may_decide(permission: Permission, *, customer: Customer, at: dt.datetime) -> None:
    """Why this customer cannot approve this request now, as an AccessError; None if they can."""
    if permission.status != PermissionStatus.RECEIVED or (
        permission.customer_id not in (None, customer.pk)
    ):
        raise NotOpen(_("Over dit verzoek is al beslist, of het is beëindigd."))
    if permission.valid_until < timezone.localdate(at):
        raise NotOpen(_("Dit verzoek is verlopen."))
    if permission.data_user.status != DataUserStatus.ACTIVE:
        raise DataUserSuspended(
            _("%(name)s is door de bank geschorst: u kunt nu geen toegang geven.")
            % {"name": permission.data_user.name}
        )
    if customer.closed_on is not None:
        raise CustomerClosed(_("U bent geen klant meer; u kunt geen toegang geven."))
    from_date = too_young_until(customer, on=timezone.localdate(at))
    if from_date is not None:
        raise TooYoung(
            _(
                "U kunt een andere partij toegang tot uw rekeningen geven vanaf uw 16e"
                " verjaardag, op %(date)s. Tot die tijd kan dat niet."
            )
            % {"date": date_format(from_date, "j F Y")},
            from_date=from_date,
        )


def _locked_permission(consent_id: "uuid.UUID") -> Permission:
    return (
        Permission.objects.select_for_update(of=("self",))
        .select_related("data_user")
        .get(consent_id=consent_id)
    )


def approve(
    *,
    permission: Permission,
    customer: Customer,
    version: int | None,
    text_sha256: str | None,
    language: str,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
) -> Permission:
    with transaction.atomic():
        locked_customer = lock_customer(customer)
        locked = _locked_permission(permission.consent_id)
        check_may_decide(locked, customer=locked_customer, at=at)
        mine = customer_accounts(locked_customer)
        if unknown_ibans(locked, mine):
            raise NotYourAccounts(
                _(
                    "Dit verzoek vraagt om rekeningen die niet van u zijn: u kunt het niet"
                    " goedkeuren."
                )
            )
        accounts = accounts_in_scope(locked, mine)
        if not accounts:
            raise NotYourAccounts(_("U heeft geen betaalrekening waarvoor dit verzoek geldt."))
        text = approval_text(locked, accounts=accounts, language=language, at=at)
        if version != TEXT_VERSION or text_sha256 != text.sha256:
            raise StaleText(_("De tekst is veranderd; lees hem en kies opnieuw."))
        event, _effects = append_event(
            customer=locked_customer,
            purpose=None,
            version=None,
            action=Action.ACCESS_GRANTED,
            channel=channel,
            actor=actor,
            at=at,
            language=text.language,
            notice_sha256=text.sha256,
        )
        locked.customer = locked_customer
        locked.status = PermissionStatus.VALID
        locked.decided_at = event.occurred_at
        locked.history_from = history_from(at)
        locked.text = text.text
        locked.text_version = text.version
        locked.text_language = text.language
        locked.text_sha256 = text.sha256
        locked.granted_event = event
        locked.save()
        PermittedAccount.objects.bulk_create(
            PermittedAccount(
                permission=locked,
                account=account,
                balances=locked.balances,
                transactions=locked.transactions,
            )
            for account in accounts
        )
        _tell([locked], event=ChangeEvent.APPROVED, at=event.occurred_at)
    return locked


def refuse(*, permission: Permission, customer: Customer, at: dt.datetime) -> Permission:
    """The customer says no. No ledger event: nothing was given."""
    with transaction.atomic():
        locked = _locked_permission(permission.consent_id)
        if locked.status != PermissionStatus.RECEIVED or locked.customer_id not in (
            None,
            customer.pk,
        ):
            raise NotOpen(_("Over dit verzoek is al beslist, of het is beëindigd."))
        locked.customer = customer
        locked.status = PermissionStatus.REJECTED
        locked.decided_at = at
        locked.save(update_fields=["customer", "status", "decided_at"])
        _tell([locked], event=ChangeEvent.REJECTED, at=at)
    return locked


# --- Ending it -------------------------------------------------------------------------------
def _end(
    *,
    permission: Permission,
    status: str,
    ended_by: str,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    customer: Customer | None = None,
) -> tuple[Permission, ConsentEvent | None]:
    """End a valid permission with an `access_withdrawn` event on the text approved; a
    request not yet decided ends without one. Not open any more: NotOpen."""
    holder = customer or permission.customer
    with transaction.atomic():
        locked_customer = lock_customer(holder) if holder is not None else None
        locked = _locked_permission(permission.consent_id)
        if customer is not None and locked.customer_id != customer.pk:
            raise Permission.DoesNotExist  # another customer's: it does not exist for them
        if locked.status not in (PermissionStatus.VALID, PermissionStatus.RECEIVED):
            raise NotOpen(_("Deze toegang was al beëindigd. Er is niets veranderd."))
        event = None
        if locked.status == PermissionStatus.VALID:
            assert locked_customer is not None
            event, _effects = append_event(
                customer=locked_customer,
                purpose=None,
                version=None,
                action=Action.ACCESS_WITHDRAWN,
                channel=channel,
                actor=actor,
                at=at,
                language=locked.text_language,
                notice_sha256=locked.text_sha256,
            )
            at = event.occurred_at
        locked.status = status
        locked.ended_at = at
        locked.ended_by = ended_by
        locked.ended_event = event
        locked.save(update_fields=["status", "ended_at", "ended_by", "ended_event"])
        _tell([locked], event=status, at=at)
    return locked, event


def withdraw(
    *,
    permission: Permission,
    customer: Customer,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
) -> Permission:
    """The customer withdraws ("Toegang intrekken"): the next read is refused."""
    ended, _event = _end(
        permission=permission,
        status=PermissionStatus.REVOKED_BY_PSU,
        ended_by=EndedBy.CUSTOMER,
        channel=channel,
        actor=actor,
        at=at,
        customer=customer,
    )
    return ended


def withdraw_for_customer(
    *,
    permission: Permission,
    staff: "User",
    channel: str,
    identity_checked: bool,
    note: str,
    at: dt.datetime,
) -> Permission:
    """The contact centre withdraws for a customer on the phone (or at a branch): the
    ledger names the staff member as actor, and a `StaffAction` says the identity was
    checked and what the customer asked, as for any choice staff record."""
    if channel not in (Channel.PHONE, Channel.BRANCH):
        raise AccessError(_("Alleen telefonisch of op een kantoor."))
    if not identity_checked:
        raise AccessError(_("Controleer eerst de identiteit van de klant."))
    if not note.strip():
        raise AccessError(_("Noteer wat de klant vroeg."))
    with transaction.atomic():
        ended, event = _end(
            permission=permission,
            status=PermissionStatus.REVOKED_BY_PSU,
            ended_by=EndedBy.STAFF,
            channel=channel,
            actor=staff,
            at=at,
        )
        if event is not None:
            StaffAction.objects.create(
                event=event,
                staff=staff,
                channel=channel,
                identity_checked=True,
                note=note.strip(),
                recorded_at=at,
            )
    return ended


def terminate(*, permission: Permission, data_user: DataUser, at: dt.datetime) -> Permission:
    """The data user ends its own permission (DELETE): `terminatedByTpp`."""
    if permission.data_user_id != data_user.pk:
        raise Permission.DoesNotExist
    ended, _event = _end(
        permission=permission,
        status=PermissionStatus.TERMINATED_BY_TPP,
        ended_by=EndedBy.DATA_USER,
        channel=Channel.SYSTEM,
        actor=None,
        at=at,
    )
    return ended


def end_for_leaver(*, customer_id: int, at: dt.datetime) -> int:
    """The customer left the bank: every valid permission ends, each with its event."""
    ended = 0
    for permission in Permission.objects.filter(
        customer_id=customer_id, status__in=[PermissionStatus.VALID, PermissionStatus.RECEIVED]
    ):
        _end(
            permission=permission,
            status=PermissionStatus.REVOKED_BY_PSU,
            ended_by=EndedBy.LEFT_BANK,
            channel=Channel.SYSTEM,
            actor=None,
            at=at,
        )
        ended += 1
    return ended


# --- The privacy officer ------------------------------------------------------------------------
def suspend_data_user(
    *, data_user: DataUser, reason: str, actor: "User", at: dt.datetime
) -> DataUser:
    """Every read of the data user stops at once (the gate checks its status in its SQL);
    its customers see `reason` on their dashboard. The permissions stay as they are: the
    customer's choice is theirs, the suspension the bank's."""
    if not reason.strip():
        raise AccessError(_("Geef een reden: de klanten lezen hem."))
    with transaction.atomic():
        updated = DataUser.objects.filter(pk=data_user.pk, status=DataUserStatus.ACTIVE).update(
            status=DataUserStatus.SUSPENDED, suspended_reason=reason.strip(), suspended_at=at
        )
        if not updated:
            raise AccessError(_("Deze partij was al geschorst."))
        # Its data user learns it too, per permission that counted.
        valid = Permission.objects.filter(data_user=data_user, status=PermissionStatus.VALID)
        _tell(list(valid), event=ChangeEvent.SUSPENDED, at=at)
    data_user.refresh_from_db()
    return data_user


def reinstate_data_user(*, data_user: DataUser, actor: "User", at: dt.datetime) -> DataUser:
    with transaction.atomic():
        reinstated = DataUser.objects.filter(
            pk=data_user.pk, status=DataUserStatus.SUSPENDED
        ).update(status=DataUserStatus.ACTIVE, suspended_reason="", suspended_at=None)
        if reinstated:
            valid = Permission.objects.filter(data_user=data_user, status=PermissionStatus.VALID)
            _tell(list(valid), event=ChangeEvent.REINSTATED, at=at)
    data_user.refresh_from_db()
    return data_user
