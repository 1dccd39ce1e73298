import datetime as dt
from decimal import Decimal

import pytest
from django.test.utils import override_settings

from offers.features import Features
from offers.rules.savings_account import decide

AS_OF = dt.date(2026, 11, 2)


def features(balance, products=("checking_account",)):
    return Features(
        as_of=AS_OF,
        products=frozenset(products),
        highest_checking_balance=None if balance is None else Decimal(balance),
    )


@override_settings(OFFERS_SAVINGS_THRESHOLD=Decimal("10000.00"))
@pytest.mark.parametrize(
    ("balance", "fires"), [("9999.99", False), ("10000.00", True), ("10000.01", True)]
)
def test_fires_from_the_threshold(balance, fires):
    assert (decide(features(balance)) is not None) is fires


def test_does_not_fire_with_a_savings_account_or_without_a_checking_account():
    assert decide(features("50000.00", ("checking_account", "savings_account"))) is None
    assert decide(features(None)) is None


def test_evidence_shows_the_balance_in_each_language():
    proposal = decide(features("12500.00"), threshold=Decimal("10000.00"))
    assert proposal.evidence_nl == "Saldo van uw betaalrekening: € 12.500,00"
    assert proposal.evidence_en == "Balance of your checking account: € 12,500.00"


def test_staff_read_the_threshold_never_the_balance():
    proposal = decide(features("12537.42"), threshold=Decimal("10000.00"))
    assert proposal.staff_evidence_nl == "Saldo betaalrekening: boven de drempel van € 10.000"
    assert proposal.staff_evidence_en == "Checking account balance: above the threshold of € 10,000"
    assert "12" not in proposal.staff_evidence_nl + proposal.staff_evidence_en
