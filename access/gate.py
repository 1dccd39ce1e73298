"""The gate for data users: the only code that reads banking data for a third party.

Every read is ONE SQL statement in which the permission is checked: the consent id is the
data user's own, its status is `valid`, today (Amsterdam) is not past `valid_until`, the
data user is active, the account is one the permission covers for that data, the period
starts no earlier than the permission's `history_from`, and today's reads are fewer than
`frequency_per_day`. The permission's row is updated in that statement (today's count
goes up), so concurrent reads wait for each other's count and never exceed it. Rows
outside the permission are never read into Python: the accounts, balances and
transactions are joined to the permission that passed.

Special categories are not filtered here (unlike `offers.gate`): the customer instructed
the bank to give their own data to a party of their choice (PSD2 art. 67). Nothing else
leaves: the permitted accounts' data of the permitted kinds, in the permitted period.

The read is logged (`Read`) in the same transaction. When the statement returns nothing,
nothing was read and nothing was counted; `why_refused` then says why, for the
problem+json answer.
"""

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from banking.models import Account, Transaction

from .models import DataUser, DataUserStatus, Permission, PermissionStatus, PermittedAccount, Read

KINDS = ("accounts", "balances", "transactions")


class Refused(Exception):
    """Nothing was read. `code` is the Berlin Group message code; `status` the HTTP status."""

    def __init__(self, code: str, status: int):
        super().__init__(code)
        self.code = code
        self.status = status


@dataclass(frozen=True)
class Result:
    permission_id: int
    rows: list[dict[str, Any]]


def _bounds(date_from: dt.date | None, date_to: dt.date | None) -> tuple[Any, Any]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tz) if date_from else None
    end = dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time.min, tz) if date_to else None
    return start, end


def _sql(kind: str, *, one_account: bool) -> str:
    permission = Permission._meta.db_table
    data_user = DataUser._meta.db_table
    permitted = PermittedAccount._meta.db_table
    account = Account._meta.db_table
    ACTIVE = DataUserStatus.ACTIVE.value
    scope = {"accounts": "true", "balances": "pa.balances", "transactions": "pa.transactions"}[kind]
    counted = f"""
        WITH counted AS (
            UPDATE {permission} p
               SET reads_today = CASE WHEN p.reads_on = %(today)s THEN p.reads_today + 1 ELSE 1 END,
                   reads_on = %(today)s
             WHERE p.consent_id = %(consent_id)s
               AND p.data_user_id = %(data_user_id)s
               AND p.status = '{PermissionStatus.VALID.value}'
               AND p.valid_until >= %(today)s
               AND EXISTS (SELECT 1 FROM {data_user} d
                            WHERE d.id = p.data_user_id AND d.status = '{ACTIVE}')
               AND (p.reads_on IS DISTINCT FROM %(today)s OR p.reads_today < p.frequency_per_day)
               AND (%(resource_id)s::uuid IS NULL OR EXISTS (
                        SELECT 1 FROM {permitted} pa
                         WHERE pa.permission_id = p.id AND pa.resource_id = %(resource_id)s::uuid
                           AND {scope}))
               AND (%(start)s::timestamptz IS NULL OR %(start)s::timestamptz >= p.history_from)
         RETURNING p.id, p.history_from
        )
    """
    if kind == "transactions":
        table = Transaction._meta.db_table
        return (
            counted
            + f"""
        SELECT counted.id, pa.id, t.transaction_id, t.booked_at, t.amount, t.currency,
               t.counterparty_name, t.counterparty_iban, t.description
          FROM counted
          LEFT JOIN {permitted} pa
            ON pa.permission_id = counted.id AND pa.resource_id = %(resource_id)s::uuid
               AND pa.transactions
          LEFT JOIN {table} t
            ON t.account_id = pa.account_id
               AND t.booked_at >= GREATEST(%(start)s::timestamptz, counted.history_from)
               AND t.booked_at < %(end)s::timestamptz
         ORDER BY t.booked_at DESC, t.transaction_id
        """
        )
    where = "AND pa.resource_id = %(resource_id)s::uuid" if one_account else ""
    return (
        counted
        + f"""
        SELECT counted.id, pa.id, pa.resource_id, a.iban, a.currency, a.kind, a.balance
          FROM counted
          LEFT JOIN {permitted} pa ON pa.permission_id = counted.id AND {scope} {where}
          LEFT JOIN {account} a ON a.id = pa.account_id
         ORDER BY a.iban
        """
    )


def read(
    *,
    kind: str,
    data_user: DataUser,
    consent_id: uuid.UUID,
    at: dt.datetime,
    resource_id: uuid.UUID | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> Result:
    """Read `kind` under the permission, log it, return the rows; or `Refused`."""
    if kind not in KINDS:
        raise ValueError(kind)
    start, end = _bounds(date_from, date_to)
    params = {
        "today": timezone.localdate(at),
        "consent_id": consent_id,
        "data_user_id": data_user.pk,
        "resource_id": resource_id,
        "start": start,
        "end": end,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_sql(kind, one_account=resource_id is not None), params)
        found = cursor.fetchall()
        if not found:
            raise why_refused(data_user=data_user, params=params)
        permission_id = found[0][0]
        if kind == "transactions":
            rows = [
                {
                    "transactionId": row[2],
                    "bookingDate": timezone.localdate(row[3]).isoformat(),
                    "transactionAmount": {"currency": row[5], "amount": str(row[4])},
                    **({"creditorName": row[6]} if row[6] and row[4] < 0 else {}),
                    **({"debtorName": row[6]} if row[6] and row[4] >= 0 else {}),
                    **({"creditorAccount": {"iban": row[7]}} if row[7] and row[4] < 0 else {}),
                    **({"debtorAccount": {"iban": row[7]}} if row[7] and row[4] >= 0 else {}),
                    "remittanceInformationUnstructured": row[8],
                }
                for row in found
                if row[2] is not None
            ]
            account_row_id = found[0][1]
        else:
            rows = [
                {
                    "resourceId": str(row[2]),
                    "iban": row[3],
                    "currency": row[4],
                    "cashAccountType": "CACC",
                    "product": row[5],
                    **({"balance": row[6]} if kind == "balances" else {}),
                }
                for row in found
                if row[1] is not None
            ]
            account_row_id = found[0][1] if resource_id is not None else None
        if resource_id is not None and account_row_id is None:
            # Cannot happen: the permission passed only with the account in scope.
            raise Refused("RESOURCE_UNKNOWN", 404)
        Read.objects.create(
            permission_id=permission_id,
            account_id=account_row_id,
            kind=kind,
            read_at=at,
            date_from=date_from,
            date_to=date_to,
            rows=len(rows),
        )
    return Result(permission_id=permission_id, rows=rows)


def why_refused(*, data_user: DataUser, params: dict[str, Any]) -> Refused:
    """Why the read returned nothing (it read nothing and counted nothing), as the
    Berlin Group's message codes say it."""
    permission = (
        Permission.objects.filter(consent_id=params["consent_id"], data_user=data_user)
        .select_related("data_user")
        .first()
    )
    if permission is None:
        return Refused("CONSENT_UNKNOWN", 403)
    if permission.data_user.status != DataUserStatus.ACTIVE:
        return Refused("CONSENT_INVALID", 401)
    if permission.status != PermissionStatus.VALID:
        return Refused("CONSENT_INVALID", 401)
    if permission.valid_until < params["today"]:
        return Refused("CONSENT_EXPIRED", 401)
    resource_id = params.get("resource_id")
    if resource_id is not None and not permission.accounts.filter(resource_id=resource_id).exists():
        return Refused("RESOURCE_UNKNOWN", 404)
    start, history_from = params.get("start"), permission.history_from
    if start is not None and history_from is not None and start < history_from:
        return Refused("PERIOD_INVALID", 400)
    if permission.reads_on == params["today"] and (
        permission.reads_today >= permission.frequency_per_day
    ):
        return Refused("ACCESS_EXCEEDED", 429)
    return Refused("SERVICE_BLOCKED", 403)  # e.g. the kind of data is not permitted


def status_of(permission: Permission, *, at: dt.datetime) -> str:
    """Berlin Group `consentStatus` now: `expired` is judged, never stored."""
    if permission.status == PermissionStatus.VALID and permission.valid_until < timezone.localdate(
        at
    ):
        return "expired"
    if (
        permission.status == PermissionStatus.RECEIVED
        and permission.valid_until < timezone.localdate(at)
    ):
        return "expired"
    return permission.status
