import datetime as dt

import pytest

from offers.features import CountryPayments, Features
from offers.rules.travel_world_cover import decide

AS_OF = dt.date(2026, 11, 2)


def features(*payments, products=("travel_insurance_europe",)):
    return Features(
        as_of=AS_OF,
        products=frozenset(products),
        card_payments=tuple(CountryPayments(c, n, d) for c, n, d in payments),
    )


def test_fires_for_card_payments_outside_europe_with_europe_cover_only():
    proposal = decide(features(("US", 3, dt.date(2026, 11, 2)), ("NL", 20, dt.date(2026, 11, 1))))
    assert proposal.evidence_en == "3 card payments in the United States, last on 2 Nov"
    assert proposal.evidence_nl == "3 kaartbetalingen in de Verenigde Staten, laatst op 2 nov"
    assert "Europe" in proposal.explanation_en and "Europa" in proposal.explanation_nl


@pytest.mark.parametrize("country", ["FR", "GB", "CH", "NO", "TR", "RS"])
def test_does_not_fire_for_payments_in_europe(country):
    assert decide(features((country, 5, AS_OF))) is None


@pytest.mark.parametrize("country", ["US", "TH", "MA", "RU"])
def test_fires_just_outside_europe(country):
    assert decide(features((country, 1, AS_OF))) is not None


def test_does_not_fire_without_europe_cover_or_with_world_cover_already():
    assert decide(features(("US", 2, AS_OF), products=())) is None
    assert (
        decide(
            features(
                ("US", 2, AS_OF), products=("travel_insurance_europe", "travel_insurance_world")
            )
        )
        is None
    )


def test_evidence_sums_several_countries_outside_europe_and_names_them():
    proposal = decide(
        features(("US", 2, dt.date(2026, 10, 1)), ("CA", 1, dt.date(2026, 10, 9)), ("FR", 4, AS_OF))
    )
    assert proposal.evidence_en == (
        "3 card payments outside Europe (the United States, Canada), last on 9 Oct"
    )
    assert "France" not in proposal.evidence_en


def test_staff_read_where_never_how_often_or_when():
    proposal = decide(features(("US", 3, dt.date(2026, 10, 21)), ("CA", 1, AS_OF)))
    assert proposal.staff_evidence_nl == (
        "Kaartbetalingen buiten Europa: ja, in de Verenigde Staten, Canada"
    )
    assert not any(ch.isdigit() for ch in proposal.staff_evidence_nl + proposal.staff_evidence_en)
