"""What a rule may know about a customer: plain values computed by the consent gate.

No database here, so a rule is tested with values written by hand. Fields a rule did
not ask for keep their empty defaults: the gate only computes declared features, under
the consent the rule needs. A rule imports this module and nothing else of the project
(an import-linter contract, pyproject.toml).
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from banking.countries import country_name


@dataclass(frozen=True)
class CountryPayments:
    """Card payments in one country within a rule's look-back window."""

    country: str
    count: int
    last_on: dt.date

    def name(self, language: str) -> str:
        """The country's name in `language` (its code when the bank has no name for it)."""
        return country_name(self.country, language)


@dataclass(frozen=True)
class Features:
    as_of: dt.date
    age: int | None = None
    products: frozenset[str] = frozenset()
    # Card payments (money out, with a merchant category code), per country, most first.
    card_payments: tuple[CountryPayments, ...] = ()
    student_finance_payments: int = 0
    student_finance_last_on: dt.date | None = None
    highest_checking_balance: Decimal | None = None


# Each feature, and the purpose whose consent allows computing it (docs/ledger.md: the data
# a purpose's notice names). None: customer master data every offers rule may use.
FEATURE_PURPOSES = {
    "age": None,
    "products": None,
    "card_payments": "offers_spending",
    "student_finance": "offers_income",
    "checking_balance": "offers_balance",
}
# The data categories (`PurposeVersion.data_categories`, `consent.catalogue.DATA_CATEGORIES`)
# each feature reads: the notice of every purpose a rule runs under names them all.
FEATURE_CATEGORIES = {
    "age": ("profile.age",),
    "products": ("products_held",),
    "card_payments": ("card_payments.country", "card_payments.merchant_category"),
    "student_finance": ("incoming_payments.institutional_payer",),
    "checking_balance": ("account_balances",),
}
