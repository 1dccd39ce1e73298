"""What staff download: the record of processing activities (GDPR Art. 30, privacy
officers) and a customer's consent receipt from their page (*Klantenservice*), the same
file the customer downloads."""

import json

from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404

from consent.dashboard import get_event_for_customer
from consent.models import Customer
from consent.receipts import receipt_download
from consent.records import contact_channels, processing_record, processing_record_csv
from infra.staffsite import staff_view


@staff_view
@permission_required("consent.view_privacy_overview", raise_exception=True)
def processing_record_file(request, fmt):
    """GDPR Art. 30: the record of processing activities, as CSV or JSON."""
    if fmt == "csv":
        response = HttpResponse(processing_record_csv(), content_type="text/csv; charset=utf-8")
    elif fmt == "json":
        body = json.dumps(
            {"processing_activities": processing_record(), "contact_channels": contact_channels()},
            indent=2,
        )
        response = HttpResponse(body, content_type="application/json")
    else:
        raise PermissionDenied
    response["Content-Disposition"] = f'attachment; filename="record-of-processing.{fmt}"'
    return response


@staff_view
@permission_required("consent.view_customer", raise_exception=True)
def receipt(request, number, event_id):
    """The consent receipt of one of the customer's events: another customer's is not found."""
    customer = get_object_or_404(Customer, customer_number=number)
    return receipt_download(request, get_event_for_customer(customer, event_id))
