import datetime as dt

import pytest
from django.test.utils import override_settings
from django.utils import timezone

from consent.choices import stop_all_offers
from consent.dashboard import customer_dashboard
from consent.validity import (
    is_consent_valid,
    last_valid_day,
    sixteenth_birthday,
    start_of_day,
    valid_consents,
)
from ledger.models import Action, Channel
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant

TODAY = dt.date(2026, 11, 2)


def noon(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def valid(customer, purpose_code="offers_spending", at=None):
    at = at or noon(TODAY)
    answer = is_consent_valid(customer=customer, purpose_code=purpose_code, at=at)
    # The dashboard's one query (its SQL compiled once per process) says the same.
    for code in (None, purpose_code):
        page = customer_dashboard(customer, language="nl", at=at, code=code)
        (card,) = [card for card in page.cards if card.code == purpose_code]
        assert card.is_valid is answer
    return answer


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


def test_a_material_version_published_for_later_counts_from_its_publication(
    customer_who_consented, now
):
    publish_version("offers_spending", material=True, at=now + dt.timedelta(days=3))
    assert valid(customer_who_consented, at=now)
    assert not valid(customer_who_consented, at=now + dt.timedelta(days=3))


def test_a_consent_does_not_count_before_the_moment_it_was_given(customer_who_consented, now):
    # Sanne chose ten days before now.
    given_at = now - dt.timedelta(days=10)
    assert not valid(customer_who_consented, at=given_at - dt.timedelta(seconds=1))
    assert valid(customer_who_consented, at=given_at)


# --- Maximum age, and the card's "valid until" from the same arithmetic -------------------
@override_settings(CONSENT_MAX_AGE_DAYS=730)
@pytest.mark.parametrize(("age_in_days", "expected"), [(729, True), (730, False), (731, False)])
def test_a_consent_expires_after_the_maximum_age(
    customer_who_did_not, choose, age_in_days, expected
):
    choose(customer_who_did_not, "offers_spending", days_ago=age_in_days)
    assert valid(customer_who_did_not) is expected


@override_settings(CONSENT_MAX_AGE_DAYS=730)
@pytest.mark.parametrize("hour", [0, 12, 23])
def test_valid_until_is_the_last_day_the_consent_counts(customer_who_did_not, choose, hour):
    given_at = timezone.make_aware(dt.datetime(2025, 3, 30, hour, 15))  # clocks went forward
    choose(customer_who_did_not, "offers_spending", at=given_at)
    last = last_valid_day(given_at)
    assert last == dt.date(2027, 3, 29)
    assert valid(customer_who_did_not, at=start_of_day(last) + dt.timedelta(hours=23, minutes=59))
    assert not valid(customer_who_did_not, at=start_of_day(last + dt.timedelta(days=1)))


# --- No consent under 16 ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("birth_date", "expected"),
    [
        (dt.date(2010, 11, 3), False),  # 15 now, turns 16 tomorrow
        (dt.date(2010, 11, 2), True),  # 16 today, chose today
        (dt.date(2010, 11, 1), True),
    ],
)
def test_only_customers_of_16_and_older_can_consent(db, choose, now, birth_date, expected):
    teenager = CustomerFactory(birth_date=birth_date)
    legacy_grant(teenager, "offers_spending", at=now)
    assert valid(teenager) is expected


def test_a_grant_recorded_before_the_16th_birthday_never_becomes_valid(db, now):
    teenager = CustomerFactory(birth_date=dt.date(2010, 11, 20))  # 16 on 20 November
    legacy_grant(teenager, "offers_spending", at=now)  # at 15, from older data
    assert not valid(teenager, at=now)
    assert not valid(teenager, at=noon(dt.date(2026, 11, 20)))  # 16 now
    assert not valid(teenager, at=noon(dt.date(2027, 11, 20)))


def test_the_16th_birthday_of_a_leap_day_baby_is_leap_day(db):
    assert sixteenth_birthday(dt.date(2008, 2, 29)) == dt.date(2024, 2, 29)
    assert sixteenth_birthday(dt.date(2010, 11, 2)) == dt.date(2026, 11, 2)


def test_a_leap_day_baby_who_chose_on_her_16th_birthday_counts(db, choose):
    leapling = CustomerFactory(birth_date=dt.date(2008, 2, 29))
    on_the_day = timezone.make_aware(dt.datetime(2024, 2, 29, 0, 5))
    choose(leapling, "offers_spending", at=on_the_day)
    assert valid(leapling, at=on_the_day)


# --- The objection to direct marketing -------------------------------------------------------
def test_while_an_objection_stands_no_offers_purpose_is_valid(customer_who_consented, now):
    stop_all_offers(
        customer=customer_who_consented,
        channel=Channel.WEB,
        actor=customer_who_consented.user,
        at=now,
    )
    # Even a grant imported from older data does not count while the objection stands.
    legacy_grant(customer_who_consented, "offers_balance", at=now)
    assert not valid(customer_who_consented, "offers_balance", at=now)
    assert not valid(customer_who_consented, "offers_spending", at=now)


def test_the_set_based_query_returns_exactly_the_valid_customers_in_one_query(
    customer_who_consented, customer_who_did_not, choose, now, django_assert_num_queries
):
    withdrawn = CustomerFactory()
    choose(withdrawn, "offers_spending")
    choose(withdrawn, "offers_spending", Action.WITHDRAWN)
    too_young = CustomerFactory(birth_date=dt.date(2012, 1, 1))
    legacy_grant(too_young, "offers_spending", at=now)
    expired = CustomerFactory()
    choose(expired, "offers_spending", days_ago=1000)
    objector = CustomerFactory()
    stop_all_offers(customer=objector, channel=Channel.WEB, actor=None, at=now)
    legacy_grant(objector, "offers_spending", at=now)

    with django_assert_num_queries(1):
        customer_ids = set(
            valid_consents(purpose_code="offers_spending", at=now).values_list(
                "customer_id", flat=True
            )
        )
    assert customer_ids == {customer_who_consented.pk}
