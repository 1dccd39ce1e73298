import datetime as dt

import pytest

from offers.features import Features
from offers.rules.student_account import decide

AS_OF = dt.date(2026, 11, 2)


def features(age=20, payments=2, products=("checking_account",)):
    return Features(
        as_of=AS_OF,
        age=age,
        products=frozenset(products),
        student_finance_payments=payments,
        student_finance_last_on=dt.date(2026, 10, 24) if payments else None,
    )


@pytest.mark.parametrize(("age", "fires"), [(17, False), (18, True), (19, True)])
def test_fires_from_18(age, fires):
    assert (decide(features(age=age)) is not None) is fires


def test_does_not_fire_without_student_finance_or_with_a_student_account():
    assert decide(features(payments=0)) is None
    assert decide(features(products=("checking_account", "student_account"))) is None


def test_evidence_names_the_payer_and_the_last_payment():
    proposal = decide(features(payments=1))
    assert proposal.evidence_en == "1 payment from DUO (student finance), last on 24 Oct"
    assert proposal.evidence_nl == "1 betaling van DUO (studiefinanciering), laatst op 24 okt"
