"""The contact policy (offers/contact_policy.py): what the rules propose and a customer does
not get, and why."""

import datetime as dt

from banking.models import Product
from ledger.models import ConsentEvent
from offers import engine
from offers.models import Offer, OfferRun, OfferStatus

from .conftest import AS_OF
from .factories import TransactionFactory


def generate(now, as_of=AS_OF, **kwargs):
    return engine.generate_offers(as_of=as_of, now=now, **kwargs)


def test_no_new_offer_for_a_product_dismissed_in_the_last_180_days(traveller, now):
    generate(now)
    Offer.objects.update(status=OfferStatus.DISMISSED, status_changed_at=now)
    later = now + dt.timedelta(days=179)
    # She travels again, so the rule fires again, but she said no 179 days ago.
    TransactionFactory(
        account=traveller.accounts.get(), booked_at=later - dt.timedelta(days=2), country="JP"
    )
    run = generate(later, as_of=AS_OF + dt.timedelta(days=179))
    assert run.counts["travel_world_cover"]["candidates"] == 1
    assert run.counts["travel_world_cover"]["suppressed_by_policy"] == 1
    assert not Offer.objects.filter(status="proposed").exists()


def test_a_dismissal_older_than_180_days_no_longer_blocks(traveller, now):
    generate(now)
    Offer.objects.update(
        status=OfferStatus.DISMISSED, status_changed_at=now - dt.timedelta(days=181)
    )
    run = generate(now, as_of=AS_OF + dt.timedelta(days=1))
    assert run.counts["travel_world_cover"]["offered"] == 1


def test_at_most_three_open_offers_per_customer(traveller, now, choose):
    # Two open offers for other products already: only one more may be proposed.
    run = OfferRun.objects.create(as_of=AS_OF, started_at=now)
    event = ConsentEvent.objects.filter(customer=traveller).first()
    for days, code in enumerate(("checking_account", "student_account"), start=1):
        offer = Offer.objects.create(
            customer=traveller,
            product=Product.objects.get(code=code),
            rule="manual",
            run=run,
            as_of=AS_OF - dt.timedelta(days=days),
            explanation_nl="x",
            explanation_en="x",
            evidence_nl="x",
            evidence_en="x",
            created_at=now,
            valid_until=AS_OF + dt.timedelta(days=30),
            status_changed_at=now,
        )
        offer.relied_on.add(event)
    traveller.accounts.update(balance="20000.00")
    choose(traveller, "offers_balance")
    result = generate(now)
    assert Offer.objects.filter(customer=traveller, status="proposed").count() == 3
    assert result.counts["savings_account"]["suppressed_by_policy"] == 1
    assert result.counts["travel_world_cover"]["offered"] == 1  # higher priority
