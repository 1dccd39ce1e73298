"""Synthetic consent histories (banking/synthetic.py) ask only for choices the rules allow:
checked here choice by choice, for tens of thousands of customers, at the hours when a
local date and a UTC date differ; tests/offers/test_demo.py has them recorded for real."""

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.conf import settings
from django.utils import timezone

from banking import synthetic
from banking.synthetic import Step
from consent.models import Customer


def planned(*, count, seed, now, texts_from, leave_by):
    today = timezone.localdate(now)
    rows = synthetic.customer_rows(count=count, first_number=700000, today=today, seed=seed)
    births = {row[0]: dt.date.fromisoformat(row[4]) for row in rows}
    choices = synthetic.consent_histories(
        customers=births.items(),
        texts_from=texts_from,
        now=now,
        leave_by=leave_by,
        seed=seed,
        mix=synthetic.DEMO_MIX,
    )
    return births, list(choices)


def assert_every_choice_allowed(births, choices, *, now, texts_from, leave_by):
    by_customer = defaultdict(list)
    for choice in choices:
        by_customer[choice.customer_number].append(choice)
    for number, history in by_customer.items():
        customer = Customer(birth_date=births[number])
        assert [c.at for c in history] == sorted(c.at for c in history), number
        granted, objected, left = set(), False, False
        for choice in history:
            assert choice.at <= now and not left, (number, choice)  # nothing after leaving
            day = timezone.localdate(choice.at)
            if choice.step == Step.GRANT:
                assert not objected, (number, choice)
                assert customer.age_on(day) >= settings.CONSENT_MIN_AGE_YEARS, (number, choice)
                assert choice.at >= texts_from[choice.purpose], (number, choice)
                granted.add(choice.purpose)
            elif choice.step == Step.WITHDRAW:
                assert choice.purpose in granted, (number, choice)
            elif choice.step == Step.STOP_ALL_OFFERS:
                objected = True
            else:
                assert day <= leave_by, (number, choice)
                left = True


@pytest.mark.any_hour
@pytest.mark.parametrize("seed", [1, 7, 42])
def test_planned_histories_hold_only_choices_the_rules_allow(seed, now):
    today = timezone.localdate(now)
    # One text published long ago, one last month (no grant before it); the database's
    # date a day behind the app's (no departure after it).
    texts_from = {
        "offers_spending": now - dt.timedelta(days=2000),
        "offers_income": now - dt.timedelta(days=30),
        "offers_balance": now - dt.timedelta(days=2000),
    }
    leave_by = today - dt.timedelta(days=1)
    births, choices = planned(
        count=5000, seed=seed, now=now, texts_from=texts_from, leave_by=leave_by
    )
    assert_every_choice_allowed(births, choices, now=now, texts_from=texts_from, leave_by=leave_by)
    # And the demo shows each kind of choice, the under-16s choosing nothing.
    assert set(Counter(c.step for c in choices)) == set(Step)
    too_young = {n for n, birth in births.items() if Customer(birth_date=birth).age_on(today) < 16}
    assert too_young and not too_young & {
        c.customer_number for c in choices if c.step == Step.GRANT
    }


def test_the_twenty_thousand_customers_of_the_demo_ask_for_nothing_impossible(now):
    """`load_demo --customers 20000` (seed 7) aborted on a grant before a 16th birthday."""
    texts_from = dict.fromkeys(synthetic.OFFERS_PURPOSES, now - dt.timedelta(days=2000))
    leave_by = timezone.localdate(now)
    births, choices = planned(
        count=20_000, seed=7, now=now, texts_from=texts_from, leave_by=leave_by
    )
    assert_every_choice_allowed(births, choices, now=now, texts_from=texts_from, leave_by=leave_by)


def test_the_synthetic_countries_lie_on_the_side_of_the_travel_rules_europe_they_claim():
    from banking.synthetic import OUTSIDE_EUROPE, TRAVEL_EUROPE
    from offers.rules.travel_world_cover import EUROPE

    assert not set(OUTSIDE_EUROPE) & EUROPE
    assert set(TRAVEL_EUROPE) <= EUROPE
