"""The consent gate: consent is part of the SQL, exclusions happen before features."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.models import Action
from offers import gate
from offers.engine import evaluate
from offers.rules import RULES, RULES_BY_CODE
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant

from .conftest import days_before
from .factories import AccountFactory, TransactionFactory, hold

TRAVEL = RULES_BY_CODE["travel_world_cover"]


def gate_rows(rules, as_of):
    """What the gate's own SQL returns: asserted on rows, not on Python filtering."""
    sql = gate.gate_sql(rules=rules, as_of=as_of, at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(str(sql), sql.params)
        return cursor.fetchall()


def customers_in(rows):
    return {row[1] for row in rows}


def test_a_customer_without_consent_contributes_no_rows(traveller, as_of):
    daan = CustomerFactory(customer_number="500010")
    hold(daan, "travel_insurance_europe")
    TransactionFactory(
        account=AccountFactory(customer=daan), booked_at=days_before(5), country="US"
    )

    assert customers_in(gate_rows(RULES, as_of)) == {traveller.pk}


def test_consent_for_another_purpose_does_not_open_the_gate(traveller, choose, as_of):
    choose(traveller, "offers_spending", Action.WITHDRAWN)
    choose(traveller, "offers_balance")
    rows = gate_rows(RULES, as_of)
    assert {row[0] for row in rows} == {"savings_account"}
    assert gate_rows([TRAVEL], as_of) == []


def test_consent_to_an_outdated_material_version_counts_as_absent(traveller, now, as_of):
    publish_version("offers_spending", material=True, at=now - dt.timedelta(days=2))
    assert gate_rows([TRAVEL], as_of) == []


@override_settings(CONSENT_MAX_AGE_DAYS=730)
def test_an_expired_consent_counts_as_absent(db, choose, as_of):
    old = CustomerFactory()
    hold(old, "travel_insurance_europe")
    TransactionFactory(account=AccountFactory(customer=old), booked_at=days_before(5), country="US")
    choose(old, "offers_spending", days_ago=731)
    assert gate_rows([TRAVEL], as_of) == []


def test_a_15_year_olds_consent_counts_as_absent(db, choose, as_of):
    teen = CustomerFactory(birth_date=dt.date(2010, 11, 3))  # 16 tomorrow
    hold(teen, "travel_insurance_europe")
    TransactionFactory(
        account=AccountFactory(customer=teen), booked_at=days_before(5), country="US"
    )
    legacy_grant(teen, "offers_spending", at=timezone.now() - dt.timedelta(days=1))
    assert gate_rows([TRAVEL], as_of) == []


def test_features_hold_only_what_the_rule_declared(traveller, choose, as_of):
    choose(traveller, "offers_income")
    (row,) = [
        r
        for r in gate.features(rules=RULES, as_of=as_of, at=timezone.now())
        if r.rule == "travel_world_cover"
    ]
    assert row.features.age is None and row.features.highest_checking_balance is None
    assert [(p.country, p.count) for p in row.features.card_payments] == [("US", 2)]


def test_private_transfers_and_free_text_are_never_features(traveller, as_of):
    account = traveller.accounts.get()
    # A transfer to a person abroad, described as a holiday: not a card payment, not used.
    TransactionFactory(
        account=account,
        booked_at=days_before(3),
        mcc=None,
        country="TH",
        counterparty_name="P. Jansen",
        counterparty_iban="NL02ABNA0123456789",
        description="holiday Thailand",
    )
    (row,) = gate.features(rules=[TRAVEL], as_of=as_of, at=timezone.now())
    assert {p.country for p in row.features.card_payments} == {"US"}


def test_excluded_merchant_categories_are_a_documented_list_of_four_digit_codes():
    codes = gate.EXCLUDED_MCC_CODES
    assert len(codes) == len(set(codes)) and all(len(c) == 4 and c.isdigit() for c in codes)
    for required in ("8651", "8661", "8641", "8699", "8398", "8062", "5912", "7273", "9223"):
        assert required in codes
    assert all(reason for _, reason in gate.EXCLUDED_MCCS)


def engine_output(as_of):
    candidates, _ = evaluate(rules=RULES, as_of=as_of, at=timezone.now())
    return sorted((c.rule, c.customer_id, c.proposal) for c in candidates)


class Rollback(Exception):
    pass


@pytest.mark.slow
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    extra=st.lists(
        st.tuples(
            st.sampled_from(gate.EXCLUDED_MCC_CODES),
            st.integers(min_value=0, max_value=120),  # days before as-of
            st.sampled_from(["US", "TH", "NL", "JP", "FR"]),
            st.sampled_from(["-84.00", "-1.00", "25.00"]),
            st.sampled_from(["traveller", "student", "saver"]),
        ),
        max_size=8,
    )
)
def test_excluded_merchant_payments_never_change_the_engine_output(
    traveller, student, saver, as_of, extra
):
    """Whatever excluded-MCC transactions any customer has, the offers are the same."""
    people = {"traveller": traveller, "student": student, "saver": saver}
    baseline = engine_output(as_of)
    try:
        with transaction.atomic():
            for i, (mcc, days, country, amount, who) in enumerate(extra):
                TransactionFactory(
                    transaction_id=f"X{i}",
                    account=people[who].accounts.first(),
                    booked_at=days_before(days),
                    mcc=mcc,
                    country=country,
                    amount=amount,
                    counterparty_name="DUO",  # even an allow-listed name does not help
                )
            assert engine_output(as_of) == baseline
            raise Rollback
    except Rollback:
        pass
