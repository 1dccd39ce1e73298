"""Every staff workflow of offers (`offers.staff_views`) is closed to whoever lacks its
group's permission, to customers and to visitors, and refuses a forged POST without the
CSRF token; none of them changes anything then."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from offers.models import FollowUp, Offer, OfferEvent, OfferRun
from offers.staff_views.urls import urlpatterns
from tests.factories import UserFactory

from .factories import make_offer

REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS = (
    "Offer reviewers",
    "Privacy officers",
    "Klantenservice",
    "Access managers",
)
GROUPS = (REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS)


@dataclass(frozen=True)
class Workflow:
    name: str  # the URL's name in `offers.staff_views.urls`
    method: str
    path: str  # with {offer}, {run} and {follow_up} for the ids
    groups: tuple[str, ...]  # the groups whose staff may use it
    data: tuple[tuple[str, str], ...] = ()


WORKFLOWS = (
    Workflow(
        "offers_offerrun_start",
        "post",
        "offerrun/start/",
        (REVIEWERS, PRIVACY),
        (("as_of", "2026-11-02"),),
    ),
    Workflow("offers_offerrun_resume", "post", "offerrun/{run}/resume/", (REVIEWERS, PRIVACY)),
    Workflow("offers_offerrun_progress", "get", "offerrun/{run}/progress/", (REVIEWERS, PRIVACY)),
    Workflow("offers_offer_approve", "post", "offer/{offer}/approve/", (REVIEWERS,)),
    Workflow(
        "offers_offer_reject",
        "post",
        "offer/{offer}/reject/",
        (REVIEWERS,),
        (("reason", "past deze klant niet"),),
    ),
    Workflow("offers_privacy_overview", "get", "offer/overview/", (PRIVACY,)),
    Workflow("offers_followup_change", "get", "followup/{follow_up}/change/", (KLANTENSERVICE,)),
    Workflow(
        "offers_followup_change",
        "post",
        "followup/{follow_up}/change/",
        (KLANTENSERVICE,),
        (("status", "called"), ("note", "gebeld")),
    ),
)


@pytest.fixture
def ids(sanne, daan):
    """A proposed offer (from its run) and a follow-up of an interested customer."""
    offer = make_offer(sanne)
    follow_up = make_offer(daan, rule="savings_account", status="accepted").follow_up
    return {"offer": offer.pk, "run": offer.run_id, "follow_up": follow_up.pk}


def state():
    """Everything these workflows change."""
    return (
        sorted(Offer.objects.values_list("pk", "status")),
        OfferEvent.objects.count(),
        sorted(OfferRun.objects.values_list("pk", "status")),
        sorted(FollowUp.objects.values_list("pk", "status", "owner")),
    )


def send(client, workflow, ids):
    url = "/admin/offers/" + workflow.path.format(**ids)
    return getattr(client, workflow.method)(url, dict(workflow.data))


def staff_in(group):
    user = UserFactory(username=f"staff-{group.split()[0].lower()}", is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


def test_every_workflow_is_in_this_table():
    assert {pattern.name for pattern in urlpatterns} == {w.name for w in WORKFLOWS}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: f"{w.method}-{w.name}")
def test_the_groups_staff_get_through(client, ids, workflow):
    client.force_login(staff_in(workflow.groups[0]))
    assert send(client, workflow, ids).status_code in (200, 302)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: f"{w.method}-{w.name}")
def test_staff_without_the_groups_permission_are_refused(client, ids, workflow):
    before = state()
    for group in GROUPS:
        if group in workflow.groups:
            continue
        client.force_login(staff_in(group))
        assert send(client, workflow, ids).status_code == 403, group
    assert state() == before


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: f"{w.method}-{w.name}")
def test_customers_and_visitors_go_to_the_staff_login(client, ids, sanne, workflow):
    before = state()
    response = send(client, workflow, ids)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    client.force_login(sanne.user)
    response = send(client, workflow, ids)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert state() == before


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: f"{w.method}-{w.name}")
def test_the_groups_staff_with_a_password_alone_go_to_the_second_step(
    client, ids, settings, workflow
):
    settings.STAFF_OTP_REQUIRED = True
    client.force_login(staff_in(workflow.groups[0]))  # a password, no code from a device
    before = state()
    response = send(client, workflow, ids)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    assert state() == before


@pytest.mark.parametrize(
    "workflow", [w for w in WORKFLOWS if w.method == "post"], ids=lambda w: w.name
)
def test_a_forged_post_without_the_csrf_token_is_refused(ids, workflow):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_in(workflow.groups[0]))
    before = state()
    response = send(browser, workflow, ids)
    assert response.status_code == 403
    assert response.templates[0].name == "403_csrf.html"
    assert state() == before


def test_a_forged_bulk_action_without_the_csrf_token_is_refused(ids):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_in(REVIEWERS))
    before = state()
    data = {"action": "approve_selected", "_selected_action": [ids["offer"]]}
    assert browser.post("/admin/offers/offer/", data).status_code == 403
    assert state() == before
