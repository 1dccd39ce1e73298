"""The dashboard's section "Wie kan uw gegevens zien" (settings.DASHBOARD_SECTIONS).

One query: the customer's permissions that still count or whose data user is suspended,
with the data user, the accounts (IBANs) and the last read, aggregated in SQL. A customer
without any gets no section (the query finds nothing; nothing is rendered).
"""

import datetime as dt
from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Max, OuterRef, Subquery
from django.utils import timezone

from consent.models import Customer

from .models import DataUserStatus, Permission, PermissionStatus, PermittedAccount, Read

TEMPLATE = "access/section.html"


@dataclass(frozen=True)
class Section:
    template: str
    permissions: list[Permission]


def current_permissions(customer: Customer, *, at: dt.datetime) -> list[Permission]:
    """Valid, not past `valid_until`: what a data user may read now (or could, but for a
    suspension, which the card says). One query."""
    ibans = (
        PermittedAccount.objects.filter(permission=OuterRef("pk"))
        .order_by()
        .values("permission")
        .annotate(ibans=ArrayAgg("account__iban", ordering="account__iban"))
        .values("ibans")
    )
    last_read = (
        Read.objects.filter(permission=OuterRef("pk"))
        .order_by()
        .values("permission")
        .annotate(last=Max("read_at"))
        .values("last")
    )
    return list(
        Permission.objects.filter(
            customer=customer,
            status=PermissionStatus.VALID,
            valid_until__gte=timezone.localdate(at),
        )
        .select_related("data_user")
        .annotate(account_ibans=Subquery(ibans), last_read_at=Subquery(last_read))
        .order_by("data_user__name", "decided_at")
    )


def section(customer: Customer, *, at: dt.datetime) -> Section | None:
    permissions = current_permissions(customer, at=at)
    if not permissions:
        return None
    return Section(template=TEMPLATE, permissions=permissions)


def suspended(permission: Permission) -> bool:
    return permission.data_user.status == DataUserStatus.SUSPENDED
