"""Channels decide what happens (issue 25): "Bel mij hierover" only while the customer's
phone choice counts, the contact centre's list and its calls only for such customers,
withdrawing phone closes the calls still to make, and e-mail about an offer only under a
counting e-mail choice. On data the real code produced: the offers page, the dashboard's
forms, `record_choice`, the engine's offers through `make_offer`."""

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.channels import channel_counts
from ledger.models import Action, ConsentEvent
from offers.mailing import send_offer_email
from offers.models import FollowUp, Offer, OfferEvent
from offers.transitions import NO_CALLS, TransitionError, change_follow_up
from tests.choices import choose_on_screen
from tests.pages import choice_form

from .factories import make_offer

LIST = "/admin/offers/followup/"


def page(follow_up):
    return f"{LIST}{follow_up.pk}/change/"


def listed(client, contact_centre):
    client.force_login(contact_centre)
    return list(client.get(LIST).context["cl"].result_list)


@pytest.fixture
def approved(sanne):
    """Sanne's world-wide travel cover, approved and on her offers page."""
    return make_offer(sanne, status="approved")


# --- The customer's offers page --------------------------------------------------------------
def test_without_the_phone_channel_no_call_is_offered_and_the_way_to_switch_it_on_is(
    client, sanne, approved
):
    client.force_login(sanne.user)
    html = client.get("/offers/").content.decode()
    assert "Bel mij hierover" not in html
    assert f'id="interested-{approved.pk}">Interessant</button>' in html
    assert f'id="dismiss-{approved.pk}">Niet geïnteresseerd</button>' in html
    assert 'href="/#purpose-contact_phone"' in html
    assert "Wij bellen u niet over aanbiedingen" in html


def test_interested_without_the_phone_channel_is_recorded_without_a_call(
    client, sanne, approved, contact_centre
):
    client.force_login(sanne.user)
    response = client.post(f"/offers/{approved.pk}/interested/", follow=True)
    assert "Wij bellen u er niet over" in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == "accepted"
    assert not FollowUp.objects.filter(offer=approved).exists()
    assert not OfferEvent.objects.filter(offer=approved, kind="follow_up").exists()
    answered = client.get("/offers/").content.decode()
    answered = answered[answered.index('id="answered-title"') :]
    assert "dat u het interessant vond" in answered and "om gebeld te worden" not in answered
    assert listed(client, contact_centre) == []


def test_with_the_phone_channel_switched_on_on_the_dashboard_the_call_is_offered_and_listed(
    client, sanne, approved, contact_centre
):
    client.force_login(sanne.user)
    client.post("/choices/contact_phone/", choice_form(client, "contact_phone", "grant"))
    html = client.get("/offers/").content.decode()
    assert f'id="interested-{approved.pk}">Bel mij hierover</button>' in html
    client.post(f"/offers/{approved.pk}/interested/")
    assert listed(client, contact_centre) == [FollowUp.objects.get(offer=approved)]


# --- The contact centre's list and its calls ------------------------------------------------
@pytest.fixture
def waiting(client, sanne, approved, allow_calls, now):
    """Sanne allowed calls and said "Interessant": a call is waiting."""
    allow_calls(sanne)
    client.force_login(sanne.user)
    client.post(f"/offers/{approved.pk}/interested/")
    return FollowUp.objects.get(offer=approved)


def test_a_call_whose_phone_choice_expired_is_not_listed_nor_opened(
    client, waiting, contact_centre, settings, time_machine, now
):
    assert listed(client, contact_centre) == [waiting]
    time_machine.move_to(now + dt.timedelta(days=settings.CONSENT_MAX_AGE_DAYS + 1))
    sanne = waiting.offer.customer
    assert not channel_counts(customer=sanne, channel="phone", at=timezone.now())
    assert listed(client, contact_centre) == []
    # Opened anyway (a bookmarked address): said plainly, and taking it is refused.
    shown = client.get(page(waiting)).content.decode()
    assert "Niet bellen" in shown
    response = client.post(page(waiting), {"status": "called", "owner": contact_centre.pk})
    assert response.status_code == 409
    assert "Niet bellen" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.status == "open"
    with pytest.raises(TransitionError, match="Niet bellen"):
        change_follow_up(
            follow_up_id=waiting.pk,
            to="called",
            owner=contact_centre,
            actor=contact_centre,
            at=timezone.now(),
        )
    assert str(NO_CALLS).startswith("Niet bellen")


def test_withdrawing_phone_closes_the_calls_still_to_make_at_once(
    client, waiting, contact_centre, sanne, daan, allow_calls
):
    # Daan's call is his own: it stays.
    allow_calls(daan)
    other = make_offer(daan, rule="savings_account", status="accepted").follow_up
    change_follow_up(
        follow_up_id=waiting.pk,
        to="called",
        owner=contact_centre,
        actor=contact_centre,
        at=timezone.now(),
    )
    client.force_login(sanne.user)
    response = client.post(
        "/choices/contact_phone/", choice_form(client, "contact_phone", "withdraw"), follow=True
    )
    assert "Wij bellen u niet over de aanbieding waarvoor u belangstelling had." in (
        response.content.decode()
    )
    waiting.refresh_from_db()
    assert (waiting.status, waiting.outcome) == ("closed", "withdrawn")
    closing = OfferEvent.objects.filter(offer=waiting.offer, kind="follow_up").latest("pk")
    withdrawal = ConsentEvent.objects.get(
        customer=sanne, action="withdrawn", purpose__code="contact_phone"
    )
    assert (closing.from_state, closing.to_state, closing.actor_kind, closing.cause) == (
        "called",
        "closed",
        "system",
        "consent_withdrawn",
    )
    assert f"gebeurtenis {withdrawal.pk}" in closing.reason
    assert closing.occurred_at == withdrawal.occurred_at  # in the withdrawal's transaction
    # The answer stays: she was interested, and the offer's consent was not touched.
    assert Offer.objects.get(pk=waiting.offer_id).status == "accepted"
    assert listed(client, contact_centre) == [other]


def test_withdrawing_another_channel_leaves_the_call_alone(client, waiting, contact_centre, now):
    sanne = waiting.offer.customer
    choose_on_screen(sanne, "contact_email", at=now)
    client.force_login(sanne.user)
    client.post("/choices/contact_email/", choice_form(client, "contact_email", "withdraw"))
    waiting.refresh_from_db()
    assert waiting.status == "open"
    assert listed(client, contact_centre) == [waiting]


def test_stop_all_takes_the_call_off_the_list(client, waiting, contact_centre):
    client.force_login(waiting.offer.customer.user)
    client.post("/choices/stop-all/")
    waiting.refresh_from_db()
    assert waiting.status == "closed"
    assert listed(client, contact_centre) == []


# --- E-mail about an offer ---------------------------------------------------------------------
def test_an_offer_email_goes_only_under_a_counting_email_choice(sanne, approved, now):
    at = timezone.now()
    assert send_offer_email(offer=approved, subject="Uw aanbod", body="…", at=at) is False
    assert mail.outbox == []
    choose_on_screen(sanne, "contact_email", at=now)
    assert send_offer_email(offer=approved, subject="Uw aanbod", body="…", at=at) is True
    assert [message.to for message in mail.outbox] == [[sanne.email]]


def test_the_list_judges_the_phone_choice_in_its_own_query(
    client, waiting, contact_centre, allow_calls, daan, student
):
    """Set-based: more customers on the list, with and without calls allowed, and the
    list runs the same number of queries."""
    client.force_login(contact_centre)
    client.get(LIST)
    with CaptureQueriesContext(connection) as before:
        client.get(LIST)
    allow_calls(daan)
    make_offer(daan, rule="savings_account", status="accepted")
    allow_calls(student)
    make_offer(student, rule="student_account", status="accepted")
    # Lucas then switches calls off: his (closed) follow-up is not listed.
    choose_on_screen(student, "contact_phone", Action.WITHDRAWN, at=timezone.now())
    assert FollowUp.objects.filter(offer__customer=student).exists()
    with CaptureQueriesContext(connection) as after:
        shown = list(client.get(LIST).context["cl"].result_list)
    assert len(after) == len(before)
    assert {follow_up.offer.customer for follow_up in shown} == {waiting.offer.customer, daan}
