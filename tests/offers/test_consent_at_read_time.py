"""Consent is judged when the data is read, at the run's start; `--as-of` only places the
data windows. Every run here lies two weeks after its as-of date."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from consent.choices import stop_all_offers
from ledger.models import Action, Channel
from offers.models import Offer
from tests.factories import CustomerFactory, publish_version

from .factories import AccountFactory, TransactionFactory, hold

AS_OF = dt.date(2026, 10, 19)
RUN_AT = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))  # the frozen clock's now


def at_noon(day):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


@pytest.fixture
def traveller(db):
    """Insured for Europe only, paid by card in the United States on 10 October."""
    sem = CustomerFactory(customer_number="730001", birth_date=dt.date(1979, 8, 12))
    hold(sem, "travel_insurance_europe")
    TransactionFactory(
        account=AccountFactory(customer=sem), booked_at=at_noon(dt.date(2026, 10, 10)), country="US"
    )
    return sem


def offered(customer) -> bool:
    call_command("generate_offers", "--as-of", AS_OF.isoformat())
    return Offer.objects.filter(customer=customer, rule="travel_world_cover").exists()


def test_a_consent_given_after_the_as_of_date_but_before_the_run_counts(traveller, choose):
    choose(traveller, "offers_spending", at=at_noon(AS_OF + dt.timedelta(days=7)))
    assert offered(traveller)


def test_a_consent_withdrawn_after_the_as_of_date_does_not_count(traveller, choose):
    choose(traveller, "offers_spending", at=at_noon(AS_OF - dt.timedelta(days=30)))
    choose(traveller, "offers_spending", Action.WITHDRAWN, at=at_noon(AS_OF + dt.timedelta(days=3)))
    assert not offered(traveller)


@override_settings(CONSENT_MAX_AGE_DAYS=730)
def test_a_consent_that_expired_after_the_as_of_date_does_not_count(traveller, choose):
    # Valid on the as-of date (725 days old), expired by the run (739 days old).
    choose(traveller, "offers_spending", at=at_noon(AS_OF - dt.timedelta(days=725)))
    assert not offered(traveller)


def test_a_consent_superseded_by_a_material_version_after_the_as_of_date_does_not_count(
    traveller, choose
):
    choose(traveller, "offers_spending", at=at_noon(AS_OF - dt.timedelta(days=30)))
    publish_version("offers_spending", material=True, at=at_noon(AS_OF + dt.timedelta(days=2)))
    assert not offered(traveller)


def test_a_consent_objected_to_after_the_as_of_date_does_not_count(traveller, choose):
    choose(traveller, "offers_spending", at=at_noon(AS_OF - dt.timedelta(days=30)))
    stop_all_offers(
        customer=traveller, channel=Channel.WEB, actor=None, at=at_noon(AS_OF + dt.timedelta(1))
    )
    assert not offered(traveller)


def test_a_customer_who_turned_16_after_the_as_of_date_and_then_chose_counts(db, choose):
    """15 on the as-of date, 16 on the day of the run: their own, later choice counts."""
    teen = CustomerFactory(customer_number="730002", birth_date=dt.date(2010, 10, 25))
    hold(teen, "travel_insurance_europe")
    TransactionFactory(
        account=AccountFactory(customer=teen),
        booked_at=at_noon(dt.date(2026, 10, 10)),
        country="CA",
    )
    choose(teen, "offers_spending", at=at_noon(dt.date(2026, 10, 26)))
    assert offered(teen)


def test_the_run_records_that_it_judged_consent_at_its_start(traveller, choose):
    choose(traveller, "offers_spending", at=at_noon(AS_OF + dt.timedelta(days=7)))
    offered(traveller)
    offer = Offer.objects.get(customer=traveller)
    assert offer.as_of == AS_OF
    assert offer.run.started_at >= RUN_AT  # the frozen clock ticks from 2 November 10:30
