"""Withdrawing consent retracts the open offers that relied on it, in one transaction."""

import pytest

from consent.choices import stop_all_offers
from consent.models import ConsentState
from consent.signals import consent_ended
from ledger.models import Action, Channel
from offers import engine
from offers.models import Offer
from tests.receivers import receiving

from .conftest import AS_OF


@pytest.fixture
def offered(traveller, student, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    return traveller


def test_withdrawing_retracts_open_offers_relying_on_that_purpose(offered, choose):
    recorded = choose(offered, "offers_spending", Action.WITHDRAWN)
    assert recorded.effects["offers_retracted"] == 1
    assert Offer.objects.get(customer=offered).status == "retracted"
    # Lucas's offer rests on another customer's consent: untouched.
    assert Offer.objects.exclude(customer=offered).get().status == "proposed"


def test_withdrawing_another_purpose_retracts_nothing(offered, choose):
    recorded = choose(offered, "offers_balance", Action.WITHDRAWN)
    assert recorded.effects["offers_retracted"] == 0
    assert Offer.objects.get(customer=offered).status == "proposed"


def test_approved_offers_are_retracted_too_but_answered_ones_stay(offered, student, choose):
    Offer.objects.filter(customer=offered).update(status="approved")
    Offer.objects.filter(customer=student).update(status="dismissed")
    choose(offered, "offers_spending", Action.WITHDRAWN)
    choose(student, "offers_income", Action.WITHDRAWN)
    assert Offer.objects.get(customer=offered).status == "retracted"
    assert Offer.objects.get(customer=student).status == "dismissed"


def test_stop_all_retracts_and_tells_how_many(offered, now):
    recorded = stop_all_offers(customer=offered, channel=Channel.WEB, actor=offered.user, at=now)
    assert recorded.effects["offers_retracted"] == 1


def test_retraction_and_withdrawal_commit_or_fail_together(offered, choose):
    def later_hook_fails(**kwargs):
        raise RuntimeError("boom")

    with receiving(consent_ended, later_hook_fails), pytest.raises(RuntimeError):
        choose(offered, "offers_spending", Action.WITHDRAWN)
    assert Offer.objects.get(customer=offered).status == "proposed"
    assert ConsentState.objects.get(customer=offered).state == "granted"
