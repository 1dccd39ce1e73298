"""Every staff workflow of consent (`consent.staff_views`) is closed to whoever lacks its
group's permission, to customers and to visitors, and refuses a forged POST without the
CSRF token; none of them changes anything then (tests/staff_workflows.py)."""

import pytest

from consent.models import PurposeVersion, StaffAction
from consent.staff_views.urls import urlpatterns
from ledger.models import ConsentEvent
from tests.staff_workflows import KLANTENSERVICE, PRIVACY, StaffWorkflowsAreClosed, Workflow

ACTED = (("channel", "phone"), ("identity_checked", "on"), ("note", "Klant belde"))


class TestConsentStaffWorkflows(StaffWorkflowsAreClosed):
    APP = "consent"
    URLPATTERNS = urlpatterns
    # paths with {number}, {event} and {purpose}: the customer's number and ids
    WORKFLOWS = (
        Workflow(
            "consent_purposeversion_add",
            "get",
            "purposeversion/add/?purpose={purpose}",
            (PRIVACY,),
        ),
        Workflow(
            "consent_purposeversion_add",
            "post",
            "purposeversion/add/",
            (PRIVACY,),
            (("purpose", "{purpose}"), ("_publish", "1")),
        ),
        Workflow(
            "consent_processing_record", "get", "purpose/record-of-processing.csv", (PRIVACY,)
        ),
        Workflow(
            "consent_customer_act", "get", "customer/{number}/act/stop-all/", (KLANTENSERVICE,)
        ),
        Workflow(
            "consent_customer_act",
            "post",
            "customer/{number}/act/stop-all/",
            (KLANTENSERVICE,),
            ACTED,
        ),
        Workflow(
            "consent_customer_receipt",
            "get",
            "customer/{number}/receipt/{event}.json",
            (KLANTENSERVICE,),
        ),
    )

    @pytest.fixture
    def customer(self, customer_who_consented):
        return customer_who_consented

    @pytest.fixture
    def ids(self, customer_who_consented):
        event = ConsentEvent.objects.get(customer=customer_who_consented)
        return {
            "number": customer_who_consented.customer_number,
            "event": event.pk,
            "purpose": event.purpose_id,
        }

    def state(self):
        return (
            PurposeVersion.objects.count(),
            ConsentEvent.objects.count(),
            StaffAction.objects.count(),
        )
