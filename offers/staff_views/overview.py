"""The privacy officer's overview: consent per purpose now, grants and withdrawals per
week, stop-alls and objections, the offers funnel from *voorgesteld* to *gebeld*, what
the engine read, retention, and the links to the Art. 30 record — for a period of the
officer's choice (the last 26 weeks by default)."""

from django.contrib.auth.decorators import permission_required
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from infra.staffsite import staff_page, staff_view
from offers.models import Offer
from offers.overview import privacy_overview


@staff_view
@permission_required("consent.view_privacy_overview", raise_exception=True)
def overview(request):
    # The period: ?since=YYYY-MM-DD&until=YYYY-MM-DD (the date fields on the page).
    summary = privacy_overview(
        at=timezone.now(),
        language=get_language(),
        weeks=26,
        since=_date_param(request, "since"),
        until=_date_param(request, "until"),
    )
    context = {
        "title": _("Privacyoverzicht"),
        "opts": Offer._meta,
        "overview": summary,
        "record_csv": reverse("admin:consent_processing_record", args=["csv"]),
        "record_json": reverse("admin:consent_processing_record", args=["json"]),
    }
    return staff_page(request, "admin/offers/overview.html", context)


def _date_param(request, name):
    """A YYYY-MM-DD query parameter, or None when absent or not a real date."""
    try:
        return parse_date(request.GET.get(name) or "")
    except ValueError:  # well-formed but impossible, like 2026-02-30
        return None
