"""Interested customers are called: "Interessant" puts the offer on
the contact centre's list; every step there is an OfferEvent; the funnel counts calls."""

import pytest
from django.utils import timezone

from offers import transitions
from offers.models import FollowUp, OfferEvent
from offers.overview import privacy_overview
from tests.factories import UserFactory

from .factories import make_offer

LIST = "/admin/offers/followup/"


def page(follow_up):
    return f"{LIST}{follow_up.pk}/change/"


@pytest.fixture
def interested(sanne, allow_calls):
    """Sanne allows calls about offers and said "Interessant" to world-wide travel cover."""
    allow_calls(sanne)
    return make_offer(sanne, status="accepted").follow_up


def test_interested_puts_the_offer_on_the_list_with_the_customers_contact_details(
    client, contact_centre, interested, sanne, daan
):
    make_offer(daan, rule="savings_account", status="dismissed")  # not interested: no call
    client.force_login(contact_centre)
    response = client.get(LIST)
    assert list(response.context["cl"].result_list) == [interested]
    html = response.content.decode()
    for shown in (sanne.customer_number, sanne.full_name, sanne.email, "Reisverzekering wereld"):
        assert shown in html, shown
    assert "open" in html


def test_the_contact_centre_takes_calls_and_closes_each_step_an_event(
    client, contact_centre, interested
):
    colleague = UserFactory(username="kim", first_name="Kim", is_staff=True)
    from django.contrib.auth.models import Group

    colleague.groups.set([Group.objects.get(name="Klantenservice")])
    client.force_login(contact_centre)
    steps = [
        {"status": "open", "owner": colleague.pk, "note": "Kim belt haar morgen"},
        {"status": "called", "owner": colleague.pk, "note": "Voicemail ingesproken"},
        {"status": "closed", "owner": colleague.pk, "outcome": "taken", "note": "Afgesloten"},
    ]
    for step in steps:
        response = client.post(page(interested), step)
        assert response.status_code == 302 and response.url == LIST
    interested.refresh_from_db()
    assert (interested.status, interested.owner, interested.outcome) == (
        "closed",
        colleague,
        "taken",
    )
    events = OfferEvent.objects.filter(offer=interested.offer, kind="follow_up").order_by("pk")
    assert [(e.from_state, e.to_state, e.actor, e.owner, e.reason) for e in events] == [
        ("", "open", interested.offer.customer.user, None, ""),
        ("open", "open", contact_centre, colleague, "Kim belt haar morgen"),
        ("open", "called", contact_centre, colleague, "Voicemail ingesproken"),
        ("called", "closed", contact_centre, colleague, "Afgesloten"),
    ]
    assert events.last().outcome == "taken"
    # The offer itself stays "interested"; the list moved on.
    assert interested.offer.status == "accepted"
    assert client.get(LIST).context["cl"].result_list.count() == 0  # the list: still to do
    assert client.get(LIST, {"status": "closed"}).context["cl"].result_list.count() == 1


def test_closing_needs_an_outcome(client, contact_centre, interested):
    client.force_login(contact_centre)
    response = client.post(page(interested), {"status": "closed", "owner": contact_centre.pk})
    assert response.status_code == 409
    assert "Kies de uitkomst om af te sluiten." in response.content.decode()
    assert FollowUp.objects.get().status == "open"


def test_a_closed_follow_up_stays_closed(contact_centre, interested):
    at = timezone.now()
    transitions.change_follow_up(
        follow_up_id=interested.pk,
        to="closed",
        owner=contact_centre,
        outcome="unreachable",
        actor=contact_centre,
        at=at,
    )
    with pytest.raises(transitions.TransitionError):
        transitions.change_follow_up(
            follow_up_id=interested.pk, to="called", owner=None, actor=contact_centre, at=at
        )
    assert FollowUp.objects.get().status == "closed"


@pytest.mark.parametrize("persona", ["reviewer", "privacy_officer"])
def test_only_the_contact_centre_sees_and_works_the_list(client, request, interested, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code == 403
    assert client.get(page(interested)).status_code == 403
    assert client.post(page(interested), {"status": "called"}).status_code == 403
    assert FollowUp.objects.get().status == "open"


def test_the_funnel_ends_with_the_customers_the_contact_centre_reached(
    contact_centre, interested, daan, student, allow_calls
):
    allow_calls(daan)
    allow_calls(student)
    unreachable = make_offer(daan, rule="savings_account", status="accepted").follow_up
    make_offer(student, rule="student_account", status="accepted")  # not called yet
    at = timezone.now()
    for follow_up, to, outcome in (
        (interested, "called", ""),
        (unreachable, "closed", "unreachable"),
    ):
        transitions.change_follow_up(
            follow_up_id=follow_up.pk,
            to=to,
            owner=contact_centre,
            outcome=outcome,
            actor=contact_centre,
            at=at,
        )
    funnel = {row.product_code: row.counts for row in privacy_overview(at=at, language="nl").funnel}
    assert funnel["travel_insurance_world"]["accepted"] == 1
    assert funnel["travel_insurance_world"]["called"] == 1
    assert funnel["savings_account"]["called"] == 0  # not reached
    assert funnel["student_account"]["called"] == 0


def test_the_owner_filter_offers_only_contact_centre_staff(client, contact_centre, interested):
    client.force_login(contact_centre)
    html = client.get(LIST).content.decode()
    start = html.index('id="changelist-filter"')
    filters = html[start : html.index("</search>", start)]
    assert "karim" in filters
    assert interested.offer.customer.customer_number not in filters  # customers own nothing
    assert "rik-reviewer" not in filters
    assert client.get(LIST, {"owner": "me"}).context["cl"].result_list.count() == 0
    assert client.get(LIST, {"owner": "none"}).context["cl"].result_list.count() == 1
