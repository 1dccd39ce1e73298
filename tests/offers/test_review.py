"""Review (docs/gate.md): approve re-checks consent, reject needs a reason, who and when are
kept; a material new version of a purpose retracts the offers that relied on it."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.catalogue import VERSION_TEXT_FIELDS
from consent.publishing import publish_version
from consent.validity import is_consent_valid
from infra.effects import Effects
from ledger.models import Action
from offers import engine, review
from offers.models import Offer
from offers.receivers import retract_on_material_change
from tests.pages import card_html

from .conftest import AS_OF
from .factories import make_offer


def texts_of(purpose_code):
    from consent.models import PurposeVersion

    latest = PurposeVersion.objects.filter(purpose__code=purpose_code).order_by("-version")[0]
    return {
        "data_categories": latest.data_categories,
        **{
            name: getattr(latest, name) + " Nu ook met de naam van de winkel."
            for name in VERSION_TEXT_FIELDS
        },
    }


def test_approving_records_who_and_when(sanne, reviewer):
    offer = make_offer(sanne)
    at = timezone.now()
    result = review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=at)
    offer.refresh_from_db()
    assert result.done == 1 and result.retracted == 0
    assert (offer.status, offer.reviewed_by, offer.reviewed_at) == ("approved", reviewer, at)
    assert offer.status_changed_at == at


def test_approving_an_offer_whose_consent_was_withdrawn_meanwhile_retracts_it(
    sanne, daan, reviewer, choose
):
    lapsed = make_offer(sanne)
    fine = make_offer(daan, rule="savings_account")
    # The withdrawal hook already retracts open offers; undo that to stand for a consent
    # that stopped counting without a withdrawal reaching the offer (a race, an expiry).
    choose(sanne, "offers_spending", Action.WITHDRAWN, at=timezone.now())
    Offer.objects.filter(pk=lapsed.pk).update(status="proposed")

    result = review.approve(offer_ids=[lapsed.pk, fine.pk], reviewer=reviewer, at=timezone.now())

    assert (result.done, result.retracted) == (1, 1)
    lapsed.refresh_from_db()
    fine.refresh_from_db()
    assert (lapsed.status, lapsed.reviewed_by) == ("retracted", reviewer)
    assert fine.status == "approved"


def test_approving_an_offer_whose_consent_expired_retracts_it(sanne, reviewer, settings):
    offer = make_offer(sanne)
    settings.CONSENT_MAX_AGE_DAYS = 5  # Sanne chose ten days ago
    result = review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=timezone.now())
    assert result.retracted == 1
    assert Offer.objects.get().status == "retracted"


def test_approving_an_offer_past_its_date_expires_it(sanne, reviewer):
    offer = make_offer(sanne, now=timezone.now() - dt.timedelta(days=70))
    result = review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=timezone.now())
    assert (result.done, result.expired) == (0, 1)
    assert Offer.objects.get().status == "expired"


def test_only_offers_waiting_for_review_are_approved_or_rejected(sanne, daan, reviewer):
    dismissed = make_offer(sanne, status="dismissed")
    waiting = make_offer(daan, rule="savings_account")
    result = review.reject(
        offer_ids=[dismissed.pk, waiting.pk], reviewer=reviewer, reason="dubbel", at=timezone.now()
    )
    assert (result.done, result.skipped) == (1, 1)
    assert Offer.objects.get(pk=dismissed.pk).status == "dismissed"
    assert Offer.objects.get(pk=waiting.pk).rejection_reason == "dubbel"


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_rejecting_without_a_reason_changes_nothing(sanne, reviewer, reason):
    offer = make_offer(sanne)
    with pytest.raises(review.ReviewError):
        review.reject(offer_ids=[offer.pk], reviewer=reviewer, reason=reason, at=timezone.now())
    offer.refresh_from_db()
    assert (offer.status, offer.reviewed_by, offer.reviewed_at) == ("proposed", None, None)


def test_rejecting_keeps_the_reason_the_reviewer_and_the_time(sanne, reviewer):
    offer = make_offer(sanne)
    at = timezone.now()
    review.reject(offer_ids=[offer.pk], reviewer=reviewer, reason=" past niet ", at=at)
    offer.refresh_from_db()
    assert (offer.status, offer.rejection_reason) == ("rejected", "past niet")
    assert (offer.reviewed_by, offer.reviewed_at) == (reviewer, at)


# --- A material new version ---------------------------------------------------------------
@pytest.fixture
def offered(traveller, student, now):
    """The engine proposed Sanne world cover and Lucas a student account on AS_OF."""
    engine.generate_offers(as_of=AS_OF, now=now)
    Offer.objects.filter(customer=traveller).update(status="approved")
    return traveller


def test_a_material_version_retracts_the_offers_that_relied_on_the_old_one(
    offered, student, now, client
):
    published = publish_version(
        purpose_code="offers_spending",
        material=True,
        texts=texts_of("offers_spending"),
        actor=None,
        at=now,
    )

    assert published.effects["offers_retracted"] == 1
    assert Offer.objects.get(customer=offered).status == "retracted"
    # Lucas's offer rests on another purpose: untouched.
    assert Offer.objects.get(customer=student).status == "proposed"
    # The engine no longer uses Sanne's consent: the next day's run offers her nothing.
    assert not is_consent_valid(customer=offered, purpose_code="offers_spending", at=timezone.now())
    run = engine.generate_offers(as_of=AS_OF + dt.timedelta(days=1), now=now)
    assert run.counts["travel_world_cover"]["considered"] == 0
    assert Offer.objects.filter(customer=offered).count() == 1
    # And her dashboard asks her to choose again.
    client.force_login(offered.user)
    card = card_html(client.get("/").content.decode(), "offers_spending")
    assert "needs-choice" in card and "Kies opnieuw: de tekst is veranderd." in card


def test_a_non_material_version_retracts_nothing(offered, now):
    published = publish_version(
        purpose_code="offers_spending",
        material=False,
        texts=texts_of("offers_spending"),
        actor=None,
        at=now,
    )
    assert published.effects["offers_retracted"] == 0
    assert Offer.objects.get(customer=offered).status == "approved"


def test_only_offers_relying_on_an_older_version_are_retracted(offered, choose, now):
    published = publish_version(
        purpose_code="offers_spending",
        material=True,
        texts=texts_of("offers_spending"),
        actor=None,
        at=now - dt.timedelta(days=2),
    )
    # Sanne agrees to the new text; an offer made on that consent rests on version 2.
    choose(offered, "offers_spending", at=now - dt.timedelta(days=1))
    fresh = make_offer(offered, now=now + dt.timedelta(days=1))

    effects = Effects(
        retract_on_material_change(
            purpose_code="offers_spending", version=published.version, at=now
        )
    )

    assert effects["offers_retracted"] == 0
    assert Offer.objects.get(pk=fresh.pk).status == "proposed"
