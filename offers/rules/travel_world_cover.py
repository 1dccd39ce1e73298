"""Card payments outside Europe while insured for Europe only → world-wide cover."""

import datetime as dt
from collections.abc import Sequence

from offers.features import CountryPayments, Features

from .base import Proposal, Rule, short_date

# Where `travel_insurance_europe` already covers a trip: the EU and EEA, Switzerland,
# the United Kingdom, and the other European states and territories below. Turkey counts
# as Europe, as in most Dutch "Europa" travel policies; Russia does not.
EU = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE"
EEA_CH_GB = "IS LI NO CH GB"
OTHER_EUROPEAN = "AD AL AX BA BY FO GG GI IM JE MC MD ME MK RS SJ SM TR UA VA XK"
EUROPE = frozenset(f"{EU} {EEA_CH_GB} {OTHER_EUROPEAN}".split())


def decide(features: Features) -> Proposal | None:
    if "travel_insurance_europe" not in features.products:
        return None
    if "travel_insurance_world" in features.products:
        return None
    abroad = [p for p in features.card_payments if p.country not in EUROPE and p.count > 0]
    if not abroad:
        return None
    total = sum(p.count for p in abroad)
    last_on = max(p.last_on for p in abroad)
    return Proposal(
        explanation_nl=(
            "U heeft een reisverzekering voor Europa en betaalde onlangs met uw pas buiten "
            "Europa. Een wereldreisverzekering dekt ook reizen daarheen. We keken hiervoor "
            "alleen naar het land van uw kaartbetalingen, omdat u aanbiedingen op basis van "
            "waar en hoe u betaalt heeft aangezet."
        ),
        explanation_en=(
            "You have travel insurance for Europe and recently paid by card outside Europe. "
            "World-wide cover also insures trips there. We only looked at the country of "
            "your card payments, because you switched on offers based on where and how "
            "you pay."
        ),
        evidence_nl=_evidence(abroad, total, last_on, "nl"),
        evidence_en=_evidence(abroad, total, last_on, "en"),
        staff_evidence_nl=_staff_evidence(abroad, "nl"),
        staff_evidence_en=_staff_evidence(abroad, "en"),
    )


def _evidence(
    abroad: Sequence[CountryPayments], total: int, last_on: dt.date, language: str
) -> str:
    when = short_date(last_on, language)
    if len(abroad) == 1:
        where = abroad[0].name(language)
        if language == "en":
            noun = "card payment" if total == 1 else "card payments"
            return f"{total} {noun} in {where}, last on {when}"
        noun = "kaartbetaling" if total == 1 else "kaartbetalingen"
        return f"{total} {noun} in {where}, laatst op {when}"
    names = ", ".join(p.name(language) for p in abroad[:3])
    more = ", …" if len(abroad) > 3 else ""
    if language == "en":
        return f"{total} card payments outside Europe ({names}{more}), last on {when}"
    return f"{total} kaartbetalingen buiten Europa ({names}{more}), laatst op {when}"


def _staff_evidence(abroad: Sequence[CountryPayments], language: str) -> str:
    """Yes, and where: no counts and no dates (staff judge the fit, not the trips)."""
    names = ", ".join(p.name(language) for p in abroad[:3])
    more = ", …" if len(abroad) > 3 else ""
    if language == "en":
        return f"Card payments outside Europe: yes, in {names}{more}"
    return f"Kaartbetalingen buiten Europa: ja, in {names}{more}"


RULE = Rule(
    code="travel_world_cover",
    product="travel_insurance_world",
    purposes=("offers_spending",),
    lookback_days=90,
    features=("products", "card_payments"),
    decide=decide,
)
