"""The dashboard's one query (SQL compiled once per process, `consent.precompiled`) says
exactly what the ORM querysets it is compiled from say: the same current texts, states,
validity and reasons, for every customer, moment and purpose."""

import datetime as dt

import pytest
import time_machine
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent.choices import stop_all_offers
from consent.dashboard import current_versions, customer_dashboard
from consent.models import ConsentState
from consent.validity import (
    annotate_validity,
    moments,
    valid_consents,
    valid_purposes_sql,
    why_not_valid,
)
from infra.precompiled import NotPrecompilable, precompile, sample_moments
from ledger.models import Action, Channel
from tests import histories
from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, publish_version, publish_version_for_later
from tests.histories import OFFERS, apply_step, three_customers
from tests.legacy import legacy_grant


def reference(customer, *, at, code=None):
    """What the dashboard read before it had one query: the ORM querysets, run as they are."""
    states = annotate_validity(
        ConsentState.objects.filter(customer=customer).select_related("purpose", "purpose_version"),
        at=at,
    )
    by_purpose = {state.purpose_id: state for state in states}
    objection = by_purpose.pop(None, None)
    cards = []
    for version in current_versions(at=at, code=code):
        state = by_purpose.get(version.purpose_id)
        cards.append(
            (
                version.purpose.code,
                version.pk,
                version.notice_sha256("nl"),
                state and state.pk,
                state and state.purpose_version.version,
                bool(state and state.is_valid),
                why_not_valid(state, customer, at=at),
            )
        )
    objected = objection.pk if objection and objection.state == Action.OBJECTED else None
    return sorted(cards), objected


def precompiled(customer, *, at, code=None):
    page = customer_dashboard(customer, language="nl", at=at, code=code)
    cards = [
        (
            card.code,
            card.version.pk,
            card.notice_sha256,
            card.state and card.state.pk,
            card.state and card.state.purpose_version.version,
            card.is_valid,
            card.invalid_because,
        )
        for card in page.cards
    ]
    return sorted(cards), page.objection and page.objection.state.pk


def assert_same(customers, at):
    for customer in customers:
        assert precompiled(customer, at=at) == reference(customer, at=at)
        for code in (*OFFERS, "account_administration"):
            assert precompiled(customer, at=at, code=code) == reference(customer, at=at, code=code)


def choose(customer, code, action, at):
    return choose_on_screen(customer, code, action, at=at)


@pytest.mark.any_hour
def test_every_kind_of_consent_reads_the_same(db, now):
    fresh, withdrawn, expired, material, objector, teenager, never = (
        CustomerFactory(),
        CustomerFactory(),
        CustomerFactory(),
        CustomerFactory(),
        CustomerFactory(),
        CustomerFactory(birth_date=now.date().replace(year=now.year - 15)),
        CustomerFactory(),
    )
    choose(fresh, "offers_spending", Action.GRANTED, now)
    choose(withdrawn, "offers_income", Action.GRANTED, now - dt.timedelta(days=3))
    choose(withdrawn, "offers_income", Action.WITHDRAWN, now)
    choose(expired, "offers_balance", Action.GRANTED, now - dt.timedelta(days=730))
    choose(expired, "offers_spending", Action.GRANTED, now - dt.timedelta(days=729))
    choose(material, "offers_balance", Action.GRANTED, now - dt.timedelta(days=2))
    publish_version("offers_balance", material=True, at=now - dt.timedelta(days=1))
    choose(material, "offers_spending", Action.GRANTED, now - dt.timedelta(days=2))
    publish_version("offers_spending", material=False, at=now - dt.timedelta(days=1))
    choose(objector, "offers_spending", Action.GRANTED, now - dt.timedelta(days=5))
    stop_all_offers(customer=objector, channel=Channel.WEB, actor=None, at=now)
    legacy_grant(objector, "offers_income", at=now)
    legacy_grant(teenager, "offers_spending", at=now)
    publish_version_for_later(
        "offers_income", at=now + dt.timedelta(days=3), now=now, material=True
    )
    everyone = [fresh, withdrawn, expired, material, objector, teenager, never]
    for moment in (now, now + dt.timedelta(days=1), now + dt.timedelta(days=3, minutes=1)):
        assert_same(everyone, moment)


@override_settings(CONSENT_MIN_AGE_YEARS=18, CONSENT_MAX_AGE_DAYS=10)
def test_other_age_limits_compile_again(db, now):
    seventeen = CustomerFactory(birth_date=now.date().replace(year=now.year - 17))
    legacy_grant(seventeen, "offers_spending", at=now)
    eleven_days = CustomerFactory()
    choose(eleven_days, "offers_spending", Action.GRANTED, now - dt.timedelta(days=10))
    nine_days = CustomerFactory()
    choose(nine_days, "offers_spending", Action.GRANTED, now - dt.timedelta(days=9))
    assert_same([seventeen, eleven_days, nine_days], now)
    assert [card.is_valid for card in customer_dashboard(nine_days, language="nl", at=now).cards]


def test_a_value_the_query_depends_on_but_does_not_name_refuses_to_compile(db):
    first, second = sample_moments()

    def build(inputs):
        # Uses a date derived from the moment that is not one of the named inputs.
        return ConsentState.objects.filter(changed_at__date__lte=inputs["at"].date())

    with pytest.raises(NotPrecompilable):
        precompile(build, ({"at": first}, {"at": second}))


def test_validity_names_every_value_it_takes_from_the_moment(db):
    first, second = sample_moments()

    def build(inputs):
        return annotate_validity(ConsentState.objects.all(), at=inputs["at"])

    compiled = precompile(build, (moments(first), moments(second)))
    assert {name for name, _value in compiled.slots if name} == set(moments(first))


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(histories.step, min_size=1, max_size=10))
def test_after_any_steps_the_dashboard_reads_what_the_orm_reads(db, steps, database_date):
    database_date(dt.date(2060, 1, 1))  # the steps may go years past the real today
    start = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))
    with time_machine.travel(start, tick=False) as clock, transaction.atomic():
        customers = three_customers()
        for kind, who, code in steps:
            apply_step(kind, who, code, customers, at=timezone.now(), clock=clock)
            assert_same(customers, timezone.now())
        transaction.set_rollback(True)


@pytest.mark.any_hour
@override_settings(CONSENT_MAX_AGE_DAYS=730)
def test_the_precompiled_text_and_parameters_are_the_orms_own(db, now):
    """For any customer and moment: exactly the SQL and parameters the ORM compiles."""
    for customer_id, at in ((1, now), (123456, now - dt.timedelta(days=400, hours=7))):
        orm = (
            valid_consents(at=at).filter(customer_id=customer_id).values("purpose_id")
        ).query.sql_with_params()
        assert valid_purposes_sql(customer_id=customer_id, at=at) == (orm[0], list(orm[1]))
