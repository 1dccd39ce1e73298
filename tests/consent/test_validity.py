import datetime as dt

import pytest
from django.test.utils import override_settings

from consent.models import Action
from consent.validity import is_consent_valid, valid_consents
from tests.factories import CustomerFactory, publish_version

TODAY = dt.date(2026, 11, 2)


def valid(customer, purpose_code="offers_spending", on=TODAY):
    return is_consent_valid(customer=customer, purpose_code=purpose_code, on=on)


def test_a_fresh_grant_to_the_current_version_is_valid(customer_who_consented):
    assert valid(customer_who_consented)


def test_no_choice_and_a_withdrawal_are_not_valid(
    customer_who_consented, customer_who_did_not, choose
):
    assert not valid(customer_who_did_not)
    choose(customer_who_consented, "offers_spending", Action.WITHDRAWN)
    assert not valid(customer_who_consented)


def test_consent_is_only_valid_for_the_purpose_it_was_given_for(customer_who_consented):
    assert not valid(customer_who_consented, "offers_balance")


def test_a_material_new_version_invalidates_earlier_consents(customer_who_consented, choose, now):
    publish_version("offers_spending", material=True, at=now - dt.timedelta(days=1))
    assert not valid(customer_who_consented)
    choose(customer_who_consented, "offers_spending")
    assert valid(customer_who_consented)


def test_a_non_material_new_version_keeps_earlier_consents(customer_who_consented, now):
    publish_version("offers_spending", material=False, at=now - dt.timedelta(days=1))
    assert valid(customer_who_consented)


def test_a_consent_to_a_later_non_material_version_stays_valid(customer_who_did_not, choose, now):
    publish_version("offers_spending", material=True, at=now - dt.timedelta(days=5))
    publish_version("offers_spending", material=False, at=now - dt.timedelta(days=3))
    choose(customer_who_did_not, "offers_spending", days_ago=1)
    assert valid(customer_who_did_not)


def test_a_material_version_published_after_the_as_of_date_does_not_count_yet(
    customer_who_consented, now
):
    publish_version("offers_spending", material=True, at=now + dt.timedelta(days=3))
    assert valid(customer_who_consented, on=TODAY)
    assert not valid(customer_who_consented, on=TODAY + dt.timedelta(days=3))


@override_settings(CONSENT_MAX_AGE_DAYS=730)
@pytest.mark.parametrize(("age_in_days", "expected"), [(729, True), (730, False), (731, False)])
def test_a_consent_expires_after_the_maximum_age(
    customer_who_did_not, choose, age_in_days, expected
):
    choose(customer_who_did_not, "offers_spending", days_ago=age_in_days)
    assert valid(customer_who_did_not) is expected


def test_a_consent_given_after_the_as_of_date_was_not_valid_on_it(customer_who_consented):
    # Sanne chose ten days before TODAY.
    assert not valid(customer_who_consented, on=TODAY - dt.timedelta(days=11))
    assert valid(customer_who_consented, on=TODAY - dt.timedelta(days=10))


@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        (dt.date(2010, 11, 3), False),  # 15, turns 16 tomorrow
        (dt.date(2010, 11, 2), True),  # 16 today
        (dt.date(2010, 11, 1), True),
    ],
)
def test_only_customers_of_16_and_older_can_consent(db, choose, birth_date, expected):
    teenager = CustomerFactory(birth_date=birth_date)
    choose(teenager, "offers_spending", days_ago=1)
    assert valid(teenager) is expected


def test_a_leap_day_baby_turns_16_on_leap_day(db, choose):
    leapling = CustomerFactory(birth_date=dt.date(2008, 2, 29))
    choose(leapling, "offers_spending", at=dt.datetime(2024, 2, 1, 12, tzinfo=dt.UTC))
    assert not valid(leapling, on=dt.date(2024, 2, 28))
    assert valid(leapling, on=dt.date(2024, 2, 29))


def test_the_set_based_query_returns_exactly_the_valid_customers_in_one_query(
    customer_who_consented, customer_who_did_not, choose, django_assert_num_queries
):
    withdrawn = CustomerFactory()
    choose(withdrawn, "offers_spending")
    choose(withdrawn, "offers_spending", Action.WITHDRAWN)
    too_young = CustomerFactory(birth_date=dt.date(2012, 1, 1))
    choose(too_young, "offers_spending")
    expired = CustomerFactory()
    choose(expired, "offers_spending", days_ago=1000)

    with django_assert_num_queries(1):
        customer_ids = set(
            valid_consents(purpose_code="offers_spending", on=TODAY).values_list(
                "customer_id", flat=True
            )
        )
    assert customer_ids == {customer_who_consented.pk}
