"""Every staff workflow of consent (`consent.staff_views`) is closed to whoever lacks its
group's permission, to customers and to visitors, and refuses a forged POST without the
CSRF token; none of them changes anything then."""

from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from consent.models import PurposeVersion, StaffAction
from consent.staff_views.urls import urlpatterns
from ledger.models import ConsentEvent
from tests.factories import UserFactory

REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS = (
    "Offer reviewers",
    "Privacy officers",
    "Klantenservice",
    "Access managers",
)
GROUPS = (REVIEWERS, PRIVACY, KLANTENSERVICE, ACCESS)


@dataclass(frozen=True)
class Workflow:
    name: str  # the URL's name in `consent.staff_views.urls`
    method: str
    path: str  # with {number}, {event} and {purpose} for the customer's number and ids
    groups: tuple[str, ...]  # the groups whose staff may use it
    data: tuple[tuple[str, str], ...] = ()


ACTED = (("channel", "phone"), ("identity_checked", "on"), ("note", "Klant belde"))
WORKFLOWS = (
    Workflow(
        "consent_purposeversion_add", "get", "purposeversion/add/?purpose={purpose}", (PRIVACY,)
    ),
    Workflow(
        "consent_purposeversion_add",
        "post",
        "purposeversion/add/",
        (PRIVACY,),
        (("purpose", "{purpose}"), ("_publish", "1")),
    ),
    Workflow("consent_processing_record", "get", "purpose/record-of-processing.csv", (PRIVACY,)),
    Workflow("consent_customer_act", "get", "customer/{number}/act/stop-all/", (KLANTENSERVICE,)),
    Workflow(
        "consent_customer_act", "post", "customer/{number}/act/stop-all/", (KLANTENSERVICE,), ACTED
    ),
    Workflow(
        "consent_customer_receipt",
        "get",
        "customer/{number}/receipt/{event}.json",
        (KLANTENSERVICE,),
    ),
)


@pytest.fixture
def ids(customer_who_consented):
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    return {
        "number": customer_who_consented.customer_number,
        "event": event.pk,
        "purpose": event.purpose_id,
    }


def state():
    """Everything these workflows change."""
    return (
        PurposeVersion.objects.count(),
        ConsentEvent.objects.count(),
        StaffAction.objects.count(),
    )


def send(client, workflow, ids):
    url = "/admin/consent/" + workflow.path.format(**ids)
    data = {name: value.format(**ids) for name, value in workflow.data}
    return getattr(client, workflow.method)(url, data)


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
def test_customers_and_visitors_go_to_the_staff_login(
    client, ids, customer_who_consented, workflow
):
    before = state()
    response = send(client, workflow, ids)
    assert response.status_code == 302 and response.url.startswith("/admin/login/")
    client.force_login(customer_who_consented.user)
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
