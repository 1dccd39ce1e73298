"""A customer about whom the bank holds every kind of data, made by the real code: the
demo's records and consents, an engine run, a consent a staff member recorded for them
by phone, their offer approved, answered "interessant", called and closed, and an app
they let in (the token endpoint's receiver, as a token issued would). Used by the
export's tests (tests/consent/test_export_completeness.py, tests/browser)."""

import datetime as dt

from django.contrib.auth import get_user_model
from oauth2_provider.models import Application

from api.linked_apps import record_authorisation
from consent.models import Customer
from consent.staff import act_for_customer, notice_for
from ledger.models import Action, Channel
from offers import customer as offers_customer
from offers import review, transitions
from offers.models import FollowUpOutcome, FollowUpStatus, Offer

PHONE = "+31 6 1234 5678"
STAFF_NOTE = "Belde zelf: wil ook aanbiedingen op inkomen."
CALL_NOTE = "Teruggebeld, wil bedenktijd."
CALLS_NOTE = "Mag gebeld worden over aanbiedingen."


def called_back_story(number: str, *, at: dt.datetime) -> Customer:
    """After `load_demo` and `generate_offers`: the demo customer `number` (one with an
    offer, e.g. 100001) phones, gets their offer approved, answers it and is called.
    Each step a few minutes after `at`."""
    customer = Customer.objects.get(customer_number=number)
    Customer.objects.filter(pk=customer.pk).update(phone=PHONE)
    users = get_user_model().objects
    agent, reviewer = users.get(username="klantenservice"), users.get(username="reviewer")
    minutes = lambda n: at + dt.timedelta(minutes=n)  # noqa: E731

    def granted_on_the_phone(purpose_code, note, at):
        notice = notice_for(
            customer=customer, action=Action.GRANTED, purpose_code=purpose_code, at=at
        )
        assert notice.version is not None
        act_for_customer(
            customer=customer,
            staff=agent,
            action=Action.GRANTED,
            channel=Channel.PHONE,
            identity_checked=True,
            note=note,
            at=at,
            purpose_code=purpose_code,
            version=notice.version.version,
            notice_sha256=notice.notice_sha256,
        )

    granted_on_the_phone("offers_income", STAFF_NOTE, minutes(5))
    # On the same call: they may be called about offers (consent.channels), so their
    # "interessant" asks for a call.
    granted_on_the_phone("contact_phone", CALLS_NOTE, minutes(6))
    offer = Offer.objects.get(customer=customer)
    review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=minutes(10))
    offers_customer.answer_offer(customer, offer.pk, answer="interested", at=minutes(15))
    follow_up = Offer.objects.get(pk=offer.pk).follow_up
    transitions.change_follow_up(
        follow_up_id=follow_up.pk,
        to=FollowUpStatus.CALLED,
        owner=agent,
        actor=agent,
        at=minutes(20),
        note=CALL_NOTE,
    )
    transitions.change_follow_up(
        follow_up_id=follow_up.pk,
        to=FollowUpStatus.CLOSED,
        owner=agent,
        actor=agent,
        at=minutes(25),
        outcome=FollowUpOutcome.TAKEN,
    )
    budget_app = Application.objects.create(
        name="Budgetcoach",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="nl.voorbeeldbank.app:/oauth/callback",
        algorithm="",
    )
    record_authorisation(
        customer_id=customer.pk,
        application_id=budget_app.pk,
        scope="consent:read",
        at=minutes(30),
    )
    return Customer.objects.get(pk=customer.pk)
