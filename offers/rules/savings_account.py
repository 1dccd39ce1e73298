"""A high balance on a checking account, no savings account → savings account."""

from decimal import Decimal

from django.conf import settings

from offers.features import Features

from .base import Proposal, Rule, euros, whole_euros


def decide(features: Features, *, threshold: Decimal | None = None) -> Proposal | None:
    threshold = settings.OFFERS_SAVINGS_THRESHOLD if threshold is None else threshold
    balance = features.highest_checking_balance
    if balance is None or balance < threshold:
        return None
    if "savings_account" in features.products:
        return None
    return Proposal(
        explanation_nl=(
            f"Op uw betaalrekening staat {euros(threshold, 'nl')} of meer. Op een "
            "spaarrekening krijgt u rente over dat geld. We keken hiervoor alleen naar uw "
            "saldo, omdat u aanbiedingen op basis van uw saldo heeft aangezet."
        ),
        explanation_en=(
            f"Your checking account holds {euros(threshold, 'en')} or more. A savings account "
            "pays interest on that money. We only looked at your balance, because you "
            "switched on offers based on your balances."
        ),
        evidence_nl=f"Saldo van uw betaalrekening: {euros(balance, 'nl')}",
        evidence_en=f"Balance of your checking account: {euros(balance, 'en')}",
        staff_evidence_nl=(
            f"Saldo betaalrekening: boven de drempel van {whole_euros(threshold, 'nl')}"
        ),
        staff_evidence_en=(
            f"Checking account balance: above the threshold of {whole_euros(threshold, 'en')}"
        ),
    )


RULE = Rule(
    code="savings_account",
    product="savings_account",
    purposes=("offers_balance",),
    lookback_days=0,
    features=("products", "checking_balance"),
    decide=decide,
)
