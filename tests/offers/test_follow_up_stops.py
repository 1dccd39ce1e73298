"""An objection or a withdrawal stops the calls: a customer who said "Interessant" and then
stops all personal offers, or withdraws the consent the offer relied on, is taken off the
contact centre's list at once, in the same transaction, with an event that says why."""

import pytest
from django.db import transaction

from consent.choices import stop_all_offers
from consent.signals import consent_ended
from ledger.models import Channel, ConsentEvent
from offers.models import FollowUp, OfferEvent
from offers.receivers import close_follow_ups_on_phone_withdrawal, retract_on_withdrawal
from offers.transitions import change_follow_up
from tests.pages import choice_form

from .factories import make_offer

LIST = "/admin/offers/followup/"


def on_the_list(client, contact_centre):
    client.force_login(contact_centre)
    return list(client.get(LIST).context["cl"].result_list)


@pytest.fixture
def approved(sanne, allow_calls):
    """Sanne's world-wide travel cover, approved and on her offers page; she allows calls
    about offers."""
    allow_calls(sanne)
    return make_offer(sanne, status="approved")


def test_interested_then_stop_all_takes_the_call_off_the_list(
    client, sanne, approved, contact_centre
):
    client.force_login(sanne.user)
    assert client.post(f"/offers/{approved.pk}/interested/").status_code == 302
    follow_up = FollowUp.objects.get(offer=approved)
    assert on_the_list(client, contact_centre) == [follow_up]

    client.force_login(sanne.user)
    response = client.post("/choices/stop-all/", follow=True)
    assert "Wij bellen u niet over de aanbieding waarvoor u belangstelling had." in (
        response.content.decode()
    )

    assert on_the_list(client, contact_centre) == []
    follow_up.refresh_from_db()
    # Stopping everything first withdrew the consent the offer relied on: that closed it.
    assert (follow_up.status, follow_up.outcome) == ("closed", "withdrawn")
    closing = OfferEvent.objects.filter(offer=approved, kind="follow_up").latest("pk")
    withdrawal = ConsentEvent.objects.get(
        customer=sanne, action="withdrawn", purpose__code="offers_spending"
    )
    objection = ConsentEvent.objects.get(customer=sanne, action="objected")
    assert (closing.from_state, closing.to_state, closing.actor_kind, closing.cause) == (
        "open",
        "closed",
        "system",
        "consent_withdrawn",
    )
    assert closing.outcome == "withdrawn"
    assert f"gebeurtenis {withdrawal.pk}" in closing.reason
    # In the same transaction as the choice: the same moment as its events.
    assert closing.occurred_at == withdrawal.occurred_at == objection.occurred_at
    # The customer's answer stays what it was: they were interested.
    approved.refresh_from_db()
    assert approved.status == "accepted"


def test_an_objection_closes_a_call_a_withdrawal_did_not(client, sanne, approved, contact_centre):
    """A follow-up still open although its consent is gone (left so by a withdrawal
    recorded before withdrawals closed them): the objection closes it, whatever consent."""
    client.force_login(sanne.user)
    client.post(f"/offers/{approved.pk}/interested/")
    consent_ended.disconnect(retract_on_withdrawal)
    try:
        client.post("/choices/offers_spending/", choice_form(client, "offers_spending", "withdraw"))
    finally:
        consent_ended.connect(retract_on_withdrawal)
    assert on_the_list(client, contact_centre) == [FollowUp.objects.get(offer=approved)]

    client.force_login(sanne.user)
    # Recorded before withdrawing calls closed them, too: stop-all's withdrawal of the
    # phone channel would close it first (tests/offers/test_contact_channels.py).
    consent_ended.disconnect(close_follow_ups_on_phone_withdrawal)
    try:
        client.post("/choices/stop-all/")
    finally:
        consent_ended.connect(close_follow_ups_on_phone_withdrawal)

    assert on_the_list(client, contact_centre) == []
    follow_up = FollowUp.objects.get(offer=approved)
    assert (follow_up.status, follow_up.outcome) == ("closed", "objected")
    closing = OfferEvent.objects.filter(offer=approved, kind="follow_up").latest("pk")
    objection = ConsentEvent.objects.get(customer=sanne, action="objected")
    assert (closing.cause, closing.actor_kind) == ("objection", "system")
    assert f"gebeurtenis {objection.pk}" in closing.reason


def test_withdrawing_the_consent_the_offer_relied_on_closes_a_called_follow_up(
    client, sanne, approved, contact_centre, now
):
    client.force_login(sanne.user)
    client.post(f"/offers/{approved.pk}/interested/")
    follow_up = FollowUp.objects.get(offer=approved)
    change_follow_up(
        follow_up_id=follow_up.pk, to="called", owner=contact_centre, actor=contact_centre, at=now
    )

    client.force_login(sanne.user)
    form = choice_form(client, "offers_spending", "withdraw")
    assert client.post("/choices/offers_spending/", form).status_code == 302

    assert on_the_list(client, contact_centre) == []
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.owner) == (
        "closed",
        "withdrawn",
        contact_centre,
    )
    closing = OfferEvent.objects.filter(offer=approved, kind="follow_up").latest("pk")
    assert (closing.from_state, closing.cause, closing.outcome) == (
        "called",
        "consent_withdrawn",
        "withdrawn",
    )
    assert "offers_spending" in closing.reason


def test_withdrawing_another_purpose_leaves_the_call_alone(
    client, sanne, approved, contact_centre, choose
):
    choose(sanne, "offers_balance", "granted")
    client.force_login(sanne.user)
    client.post(f"/offers/{approved.pk}/interested/")
    client.post("/choices/offers_balance/", choice_form(client, "offers_balance", "withdraw"))
    assert on_the_list(client, contact_centre) == [FollowUp.objects.get(offer=approved)]


def test_a_call_already_closed_by_staff_keeps_its_outcome(sanne, approved, contact_centre, now):
    from offers.customer import answer_offer

    answer_offer(sanne, approved.pk, answer="interested", at=now)
    follow_up = FollowUp.objects.get(offer=approved)
    change_follow_up(
        follow_up_id=follow_up.pk,
        to="closed",
        owner=contact_centre,
        actor=contact_centre,
        outcome="taken",
        at=now,
    )
    stop_all_offers(customer=sanne, channel=Channel.WEB, actor=sanne.user, at=now)
    follow_up.refresh_from_db()
    assert follow_up.outcome == "taken"
    assert OfferEvent.objects.filter(offer=approved, kind="follow_up").count() == 2


def test_the_closing_rolls_back_with_the_objection(sanne, approved, now):
    from offers.customer import answer_offer

    answer_offer(sanne, approved.pk, answer="interested", at=now)
    with pytest.raises(RuntimeError), transaction.atomic():
        stop_all_offers(customer=sanne, channel=Channel.WEB, actor=sanne.user, at=now)
        raise RuntimeError("the choice fails after the receivers ran")
    assert FollowUp.objects.get(offer=approved).status == "open"


def test_staff_cannot_choose_the_systems_outcomes(client, sanne, approved, contact_centre, now):
    from offers.customer import answer_offer

    answer_offer(sanne, approved.pk, answer="interested", at=now)
    follow_up = FollowUp.objects.get(offer=approved)
    client.force_login(contact_centre)
    response = client.post(
        f"{LIST}{follow_up.pk}/change/",
        {"status": "closed", "owner": contact_centre.pk, "outcome": "objected"},
    )
    assert response.status_code == 400
    assert FollowUp.objects.get(offer=approved).status == "open"
