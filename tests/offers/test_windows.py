"""Rule boundaries that live in the gate's SQL: look-back windows, refunds, non-card."""

import datetime as dt

import pytest
from django.utils import timezone

from offers.engine import evaluate
from offers.rules import RULES
from tests.factories import CustomerFactory

from .conftest import days_before
from .factories import AccountFactory, TransactionFactory, hold


def fired(as_of):
    candidates, _ = evaluate(rules=RULES, as_of=as_of, at=timezone.now())
    return {(c.rule, c.customer_id) for c in candidates}


@pytest.fixture
def insured(db, choose):
    customer = CustomerFactory(customer_number="510001")
    hold(customer, "travel_insurance_europe")
    choose(customer, "offers_spending", days_ago=200)
    return customer


@pytest.mark.parametrize(("days", "fires"), [(89, True), (90, True), (91, False)])
def test_a_card_payment_outside_europe_counts_for_90_days(insured, as_of, days, fires):
    TransactionFactory(
        account=AccountFactory(customer=insured), booked_at=days_before(days), country="US"
    )
    assert (("travel_world_cover", insured.pk) in fired(as_of)) is fires


def test_a_payment_on_the_90th_day_counts_from_its_first_minute(insured, as_of):
    TransactionFactory(
        account=AccountFactory(customer=insured),
        booked_at=days_before(90, hour=0),
        country="US",
    )
    assert ("travel_world_cover", insured.pk) in fired(as_of)


@pytest.mark.parametrize(
    ("amount", "mcc", "fires"),
    [("-40.00", "5812", True), ("40.00", "5812", False), ("-40.00", None, False)],
    ids=["card payment", "refund", "not a card payment"],
)
def test_only_card_payments_count(insured, as_of, amount, mcc, fires):
    TransactionFactory(
        account=AccountFactory(customer=insured),
        booked_at=days_before(3),
        country="US",
        amount=amount,
        mcc=mcc,
    )
    assert (("travel_world_cover", insured.pk) in fired(as_of)) is fires


@pytest.mark.parametrize(("days", "fires"), [(89, True), (90, True), (91, False)])
def test_student_finance_counts_for_90_days(db, choose, as_of, days, fires):
    lucas = CustomerFactory(birth_date=dt.date(2004, 1, 1))
    choose(lucas, "offers_income", days_ago=100)
    TransactionFactory(
        account=AccountFactory(customer=lucas),
        booked_at=days_before(days),
        amount="300.00",
        mcc=None,
        counterparty_name="Dienst Uitvoering Onderwijs",
    )
    assert (("student_account", lucas.pk) in fired(as_of)) is fires


@pytest.mark.parametrize(
    ("birth_date", "fires"), [(dt.date(2008, 11, 3), False), (dt.date(2008, 11, 2), True)]
)
def test_student_account_from_the_18th_birthday(db, choose, as_of, birth_date, fires):
    lucas = CustomerFactory(birth_date=birth_date)
    choose(lucas, "offers_income", days_ago=10)
    TransactionFactory(
        account=AccountFactory(customer=lucas),
        booked_at=days_before(5),
        amount="300.00",
        mcc=None,
        counterparty_name="duo",
    )
    assert (("student_account", lucas.pk) in fired(as_of)) is fires


def test_student_finance_by_iban_from_settings(db, choose, as_of, settings):
    settings.OFFERS_STUDENT_FINANCE_IBANS = ["NL40INGB0705001234"]
    lucas = CustomerFactory(birth_date=dt.date(2004, 1, 1))
    choose(lucas, "offers_income", days_ago=10)
    TransactionFactory(
        account=AccountFactory(customer=lucas),
        booked_at=days_before(5),
        amount="300.00",
        mcc=None,
        counterparty_name="Studiefinanciering",
        counterparty_iban="NL40INGB0705001234",
    )
    assert ("student_account", lucas.pk) in fired(as_of)


@pytest.mark.parametrize(("balance", "fires"), [("9999.99", False), ("10000.00", True)])
def test_savings_threshold_through_the_gate(db, choose, as_of, balance, fires):
    noor, saver = CustomerFactory(), CustomerFactory()
    AccountFactory(customer=noor, balance=balance)
    AccountFactory(customer=saver, balance=balance)
    AccountFactory(customer=saver, kind="savings", balance="99999.00")
    choose(noor, "offers_balance", days_ago=10)
    choose(saver, "offers_balance", days_ago=10)
    assert (("savings_account", noor.pk) in fired(as_of)) is fires
    # A savings account means she holds savings_account already.
    assert ("savings_account", saver.pk) not in fired(as_of)
