"""Property: whatever customers choose and however time passes, a system that follows the
feed (after each cron run) holds exactly the consents that count, never one that ended."""

import datetime as dt

import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.changes import record_consent_changes
from consent.models import Action, Channel
from consent.services import (
    ChoiceError,
    lift_objection,
    notice_on_screen,
    record_choice,
    stop_all_offers,
)
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant

from .conftest import bearer, issue_token
from .follower import Follower, truth

OFFERS = ("offers_spending", "offers_income", "offers_balance")
START = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))

step = st.one_of(
    st.tuples(
        st.sampled_from(["grant", "withdraw", "legacy_grant"]),
        st.integers(0, 2),
        st.sampled_from(OFFERS),
    ),
    st.tuples(st.sampled_from(["stop_all", "lift"]), st.integers(0, 2), st.none()),
    st.tuples(st.just("material_version"), st.none(), st.sampled_from(OFFERS)),
    st.tuples(st.just("days_pass"), st.integers(1, 800), st.none()),
)


def choose(customer, code, action, at):
    return record_choice(
        customer=customer,
        purpose_code=code,
        action=action,
        channel=Channel.APP,
        actor=customer.user,
        at=at,
        **notice_on_screen(purpose_code=code, at=at),
    )


def apply(kind, who, code, customers):
    now = timezone.now()
    customer = customers[who] if isinstance(who, int) and who < len(customers) else None
    try:
        if kind == "grant":
            choose(customer, code, Action.GRANTED, now)
        elif kind == "withdraw":
            choose(customer, code, Action.WITHDRAWN, now)
        elif kind == "legacy_grant":  # older code: no age or objection check
            legacy_grant(customer, code, at=now)
        elif kind == "stop_all":
            stop_all_offers(customer=customer, channel=Channel.APP, actor=customer.user, at=now)
        elif kind == "lift":
            lift_objection(customer=customer, channel=Channel.APP, actor=customer.user, at=now)
        elif kind == "material_version":  # fresh titles: they have a maximum length
            publish_version(code, material=True, at=now, title_nl="Nieuw", title_en="New")
    except ChoiceError:
        pass  # refused, nothing written: also a step the feed must survive


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=8))
def test_a_follower_holds_exactly_what_counts_after_any_steps(db, crm, settings, steps):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "1/min", "choose": "1/min", "feed": "100000/min"},
    }
    with time_machine.travel(START, tick=False) as clock, transaction.atomic():
        customers = [
            CustomerFactory(),
            CustomerFactory(),
            CustomerFactory(birth_date=dt.date(2010, 12, 1)),  # 16 during the walk
        ]
        follower = Follower(lambda: bearer(issue_token(crm, scope="consent:feed")), page_size=3)
        for kind, who, code in steps:
            if kind == "days_pass":
                clock.shift(dt.timedelta(days=who))
            else:
                apply(kind, who, code, customers)
            record_consent_changes(now=timezone.now())  # the cron
            follower.catch_up()
            assert follower.holds(at=timezone.now()) == truth(at=timezone.now()), steps
        transaction.set_rollback(True)  # the next example starts from nothing
