"""Property: whatever customers choose and however time passes, a system that follows the
feed (after each run of the scheduled job) holds exactly the consents that count, never
one that ended."""

import datetime as dt

import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.changes import record_consent_changes
from ledger.models import Channel
from tests import histories
from tests.histories import apply_step, three_customers

from .conftest import bearer, issue_token
from .follower import Follower, truth

START = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))

# The steps may go years past the real today: the database's date is set so far ahead.
FAR_AHEAD = dt.date(2060, 1, 1)


@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(histories.step, min_size=1, max_size=8))
def test_a_follower_holds_exactly_what_counts_after_any_steps(
    db, crm, settings, steps, database_date
):
    database_date(FAR_AHEAD)
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "1/min", "choose": "1/min", "feed": "100000/min"},
    }
    with time_machine.travel(START, tick=False) as clock, transaction.atomic():
        customers = three_customers()
        follower = Follower(lambda: bearer(issue_token(crm, scope="consent:feed")), page_size=3)
        for kind, who, code in steps:
            apply_step(
                kind, who, code, customers, at=timezone.now(), clock=clock, channel=Channel.APP
            )
            record_consent_changes(now=timezone.now())  # the schedule's job
            follower.catch_up()
            assert follower.holds(at=timezone.now()) == truth(at=timezone.now()), steps
        transaction.set_rollback(True)  # the next example starts from nothing
