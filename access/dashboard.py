"""The dashboard's section "Wie kan uw gegevens zien" (settings.DASHBOARD_SECTIONS).

One query: the customer's permissions that still count or whose data user is suspended,
with the data user, the accounts (IBANs) and the last read, aggregated in SQL. A customer
without any gets no section (the query finds nothing; nothing is rendered).
"""

import datetime as dt
import uuid
from dataclasses import dataclass

from django.db import connection
from django.utils import timezone

from banking.models import Account
from consent.models import Customer
from infra import prepared

from .models import DataUser, DataUserStatus, Permission, PermissionStatus, PermittedAccount, Read

TEMPLATE = "access/section.html"


@dataclass(frozen=True)
class DataUserCard:
    name: str
    status: str
    suspended_reason: str


@dataclass(frozen=True)
class PermissionCard:
    """What the section shows of one permission (the template reads these names)."""

    consent_id: uuid.UUID
    balances: bool
    transactions: bool
    decided_at: dt.datetime
    valid_until: dt.date
    account_ibans: list[str]
    last_read_at: dt.datetime | None
    data_user: DataUserCard


@dataclass(frozen=True)
class Section:
    template: str
    permissions: list[PermissionCard]


# What the ORM would compile on every dashboard (~2 ms of CPU: two subqueries and an
# aggregate), written once: the page is measured (issue 24).
_SECTION_SQL = f"""
    SELECT p.consent_id, p.balances, p.transactions, p.decided_at, p.valid_until,
           ARRAY(SELECT a.iban FROM {PermittedAccount._meta.db_table} pa
                   JOIN {Account._meta.db_table} a ON a.id = pa.account_id
                  WHERE pa.permission_id = p.id ORDER BY a.iban),
           (SELECT max(r.read_at) FROM {Read._meta.db_table} r WHERE r.permission_id = p.id),
           d.name, d.status, d.suspended_reason
      FROM {Permission._meta.db_table} p
      JOIN {DataUser._meta.db_table} d ON d.id = p.data_user_id
     WHERE p.customer_id = %s AND p.status = '{PermissionStatus.VALID.value}'
       AND p.valid_until >= %s
     ORDER BY d.name, p.decided_at
"""


def current_permissions(customer: Customer, *, at: dt.datetime) -> list[PermissionCard]:
    """Valid, not past `valid_until`: what a data user may read now (or could, but for a
    suspension, which the card says). One query."""
    with connection.cursor() as cursor:
        prepared.execute(cursor, _SECTION_SQL, [customer.pk, timezone.localdate(at)])
        rows = cursor.fetchall()
    return [
        PermissionCard(
            consent_id=row[0],
            balances=row[1],
            transactions=row[2],
            decided_at=row[3],
            valid_until=row[4],
            account_ibans=list(row[5]),
            last_read_at=row[6],
            data_user=DataUserCard(name=row[7], status=row[8], suspended_reason=row[9]),
        )
        for row in rows
    ]


def section(customer: Customer, *, at: dt.datetime) -> Section | None:
    permissions = current_permissions(customer, at=at)
    if not permissions:
        return None
    return Section(template=TEMPLATE, permissions=permissions)


def suspended(permission: PermissionCard) -> bool:
    return permission.data_user.status == DataUserStatus.SUSPENDED
