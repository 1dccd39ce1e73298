"""Every staff workflow of offers (`offers.staff_views`) is closed to whoever lacks its
group's permission, to customers and to visitors, and refuses a forged POST without the
CSRF token; none of them changes anything then (tests/staff_workflows.py)."""

import pytest
from django.test import Client

from offers.models import FollowUp, Offer, OfferEvent, OfferRun
from offers.staff_views.urls import urlpatterns
from tests.staff_workflows import (
    KLANTENSERVICE,
    PRIVACY,
    REVIEWERS,
    StaffWorkflowsAreClosed,
    Workflow,
    staff_in,
)

from .factories import make_offer


class TestOffersStaffWorkflows(StaffWorkflowsAreClosed):
    APP = "offers"
    URLPATTERNS = urlpatterns
    # paths with {offer}, {run} and {follow_up} for the ids
    WORKFLOWS = (
        Workflow(
            "offers_offerrun_start",
            "post",
            "offerrun/start/",
            (REVIEWERS, PRIVACY),
            (("as_of", "2026-11-02"),),
        ),
        Workflow("offers_offerrun_resume", "post", "offerrun/{run}/resume/", (REVIEWERS, PRIVACY)),
        Workflow(
            "offers_offerrun_progress", "get", "offerrun/{run}/progress/", (REVIEWERS, PRIVACY)
        ),
        Workflow("offers_offer_approve", "post", "offer/{offer}/approve/", (REVIEWERS,)),
        Workflow(
            "offers_offer_reject",
            "post",
            "offer/{offer}/reject/",
            (REVIEWERS,),
            (("reason", "past deze klant niet"),),
        ),
        Workflow("offers_privacy_overview", "get", "offer/overview/", (PRIVACY,)),
        Workflow(
            "offers_followup_change", "get", "followup/{follow_up}/change/", (KLANTENSERVICE,)
        ),
        Workflow(
            "offers_followup_change",
            "post",
            "followup/{follow_up}/change/",
            (KLANTENSERVICE,),
            (("status", "called"), ("note", "gebeld")),
        ),
    )

    @pytest.fixture
    def customer(self, sanne):
        return sanne

    @pytest.fixture
    def ids(self, sanne, daan):
        """A proposed offer (from its run) and a follow-up of an interested customer."""
        offer = make_offer(sanne)
        follow_up = make_offer(daan, rule="savings_account", status="accepted").follow_up
        return {"offer": offer.pk, "run": offer.run_id, "follow_up": follow_up.pk}

    def state(self):
        return (
            sorted(Offer.objects.values_list("pk", "status")),
            OfferEvent.objects.count(),
            sorted(OfferRun.objects.values_list("pk", "status")),
            sorted(FollowUp.objects.values_list("pk", "status", "owner")),
        )

    def test_a_forged_bulk_action_without_the_csrf_token_is_refused(self, ids):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(staff_in(REVIEWERS))
        before = self.state()
        data = {"action": "approve_selected", "_selected_action": [ids["offer"]]}
        assert browser.post("/admin/offers/offer/", data).status_code == 403
        assert self.state() == before
