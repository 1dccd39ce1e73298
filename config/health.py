"""`/healthz`, for the load balancer: 200 when this host can serve choices, 503 when not.

A host that cannot reach the database cannot save a choice. Neither can one whose clock
is off from the database's by more than the ledger allows (ledger migration 0003: an
event more than 5 s after the database's clock is refused): every choice there would end
on an error page, so the load balancer must send customers elsewhere. The same one query
either way, so the page stays the floor the other pages are measured against.
"""

import datetime as dt

from django.db import DatabaseError, connection
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

# What the ledger's trigger allows between this host's clock and the database's.
CLOCK_TOLERANCE = dt.timedelta(seconds=5)


def _plain(text: str, status: int = 200) -> HttpResponse:
    return HttpResponse(text + "\n", status=status, content_type="text/plain")


@require_http_methods(["GET", "HEAD"])
@never_cache
def healthz(request):
    before = timezone.now()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            (database_now,) = cursor.fetchone()
    except DatabaseError:
        return _plain("database unavailable", 503)
    after = timezone.now()
    if before > database_now + CLOCK_TOLERANCE or after < database_now - CLOCK_TOLERANCE:
        off = (before - database_now) if before > database_now else (after - database_now)
        return _plain(
            f"clock off by {off.total_seconds():+.1f} s from the database's: choices would fail",
            503,
        )
    return _plain("ok")
