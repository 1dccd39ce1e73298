"""The shape of a rule, and the texts it shows customers."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.utils import translation
from django.utils.formats import date_format, number_format

from offers.features import FEATURE_PURPOSES, Features

# Django's own month names and number formats, in the language of the text.
SHORT_DATE = {"nl": "j b", "en": "j M"}  # "2 nov" / "2 Nov"


@dataclass(frozen=True)
class Proposal:
    """Why a rule fires for a customer: in the words the customer will read (their own
    details), and the banded summary staff review it on (never an exact amount or a
    count of payments: staff decide whether the offer fits, not what the customer spent)."""

    explanation_nl: str
    explanation_en: str
    evidence_nl: str
    evidence_en: str
    staff_evidence_nl: str
    staff_evidence_en: str


@dataclass(frozen=True)
class Rule:
    code: str
    product: str
    purposes: tuple[str, ...]
    lookback_days: int
    features: tuple[str, ...]
    # Pure: features in, a Proposal (fires) or None out. No database, no clock.
    decide: Callable[[Features], Proposal | None]

    def __post_init__(self) -> None:
        for name in self.features:
            needs = FEATURE_PURPOSES[name]
            if needs is not None and needs not in self.purposes:
                raise ValueError(f"rule {self.code}: feature {name} needs consent for {needs}")


def short_date(day: dt.date, language: str) -> str:
    """'2 Nov' / '2 nov': the year is clear from a look-back of weeks."""
    with translation.override(language):
        return date_format(day, SHORT_DATE[language])


def whole_euros(amount: Decimal | int, language: str) -> str:
    """'€ 10.000' / '€ 10,000': a threshold, not somebody's balance."""
    with translation.override(language):
        return f"€ {number_format(int(amount), 0, force_grouping=True)}"


def euros(amount: Decimal | int, language: str) -> str:
    """'€ 12.537,42' / '€ 12,537.42'."""
    with translation.override(language):
        return f"€ {number_format(amount, 2, force_grouping=True)}"
