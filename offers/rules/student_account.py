"""Student finance coming in, 18 or older, no student account yet → student account."""

from offers.features import Features

from .base import Proposal, Rule, short_date

MINIMUM_AGE = 18
RULE_LOOKBACK_DAYS = 90


def decide(features: Features) -> Proposal | None:
    if features.age is None or features.age < MINIMUM_AGE:
        return None
    if "student_account" in features.products:
        return None
    if features.student_finance_payments < 1 or features.student_finance_last_on is None:
        return None
    count, when = features.student_finance_payments, features.student_finance_last_on
    return Proposal(
        explanation_nl=(
            "U ontvangt studiefinanciering van DUO. Met een studentenrekening betaalt u geen "
            "kosten zolang u studeert. We keken hiervoor alleen naar betalingen van DUO, "
            "omdat u aanbiedingen op basis van wie u betaalt heeft aangezet."
        ),
        explanation_en=(
            "You receive student finance from DUO. A student account has no fees while you "
            "study. We only looked at payments from DUO, because you switched on offers "
            "based on who pays you."
        ),
        evidence_nl=(
            f"{count} {'betaling' if count == 1 else 'betalingen'} van DUO "
            f"(studiefinanciering), laatst op {short_date(when, 'nl')}"
        ),
        evidence_en=(
            f"{count} {'payment' if count == 1 else 'payments'} from DUO "
            f"(student finance), last on {short_date(when, 'en')}"
        ),
        staff_evidence_nl=(
            f"Studiefinanciering van DUO in de afgelopen {RULE_LOOKBACK_DAYS} dagen: ja"
        ),
        staff_evidence_en=(f"Student finance from DUO in the last {RULE_LOOKBACK_DAYS} days: yes"),
    )


RULE = Rule(
    code="student_account",
    product="student_account",
    purposes=("offers_income",),
    lookback_days=RULE_LOOKBACK_DAYS,
    features=("age", "products", "student_finance"),
    decide=decide,
)
