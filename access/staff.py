"""Third parties on the contact centre's customer page (`consent.signals.staff_sections`):
who can see the customer's data now, and the way to withdraw it for them. One query."""

import datetime as dt
from typing import Any

from django.utils import timezone

from consent.staff import StaffSection

from .models import Permission, PermissionStatus


def staff_sections(*, customer, at: dt.datetime, **_signal: Any) -> list[StaffSection]:
    permissions = list(
        Permission.objects.filter(
            customer=customer,
            status=PermissionStatus.VALID,
            valid_until__gte=timezone.localdate(at),
        )
        .select_related("data_user")
        .order_by("data_user__name", "decided_at")
    )
    return [
        StaffSection(
            template="admin/access/customer_access.html",
            # Whether the reader may withdraw is the admin view's check; the button shows
            # for everyone on this page, whose staff (Klantenservice) may.
            context={"permissions": permissions, "may_withdraw": True},
        )
    ]
