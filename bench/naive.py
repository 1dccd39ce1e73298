"""The straightforward way, for comparison (README, Benchmarks): per customer, ORM queries.

The same three rules and the same exclusions, one customer at a time. Never used by the
application; it exists to show what the set-based gate saves.
"""

import datetime as dt

from django.conf import settings
from django.utils import timezone

from banking.models import PRODUCT_OF_ACCOUNT_KIND, Account, Holding, Transaction
from consent.validity import end_of_day, is_consent_valid
from offers.features import CountryPayments, Features
from offers.gate import EXCLUDED_MCC_CODES, STUDENT_FINANCE_NAMES, window_start
from offers.rules import RULES


def naive_offers(*, customers, as_of: dt.date) -> int:
    at = timezone.now()
    fired = 0
    for customer in customers:
        for rule in RULES:
            if not all(
                is_consent_valid(customer=customer, purpose_code=p, at=at) for p in rule.purposes
            ):
                continue
            if rule.decide(_features(customer, rule, as_of)) is not None:
                fired += 1
    return fired


def _features(customer, rule, as_of) -> Features:
    accounts = list(Account.objects.filter(customer=customer))
    products = {PRODUCT_OF_ACCOUNT_KIND[a.kind] for a in accounts} | set(
        Holding.objects.filter(customer=customer).values_list("product__code", flat=True)
    )
    checking = [a.balance for a in accounts if a.kind == "checking"]
    by_country: dict[str, list] = {}
    student_finance = []
    if {"card_payments", "student_finance"} & set(rule.features):
        for t in Transaction.objects.filter(
            account__customer=customer,
            booked_at__gte=window_start(as_of, rule.lookback_days),
            booked_at__lt=end_of_day(as_of),
        ):
            if t.mcc in EXCLUDED_MCC_CODES:
                continue
            if t.mcc and t.amount < 0:
                by_country.setdefault(t.country, []).append(t.booked_at.date())
            elif (
                not t.mcc
                and t.amount > 0
                and (
                    t.counterparty_name.lower() in STUDENT_FINANCE_NAMES
                    or t.counterparty_iban in settings.OFFERS_STUDENT_FINANCE_IBANS
                )
            ):
                student_finance.append(t.booked_at.date())
    return Features(
        as_of=as_of,
        age=customer.age_on(as_of),
        products=frozenset(products),
        card_payments=tuple(
            CountryPayments(country=c, count=len(days), last_on=max(days))
            for c, days in sorted(by_country.items(), key=lambda item: -len(item[1]))
        ),
        student_finance_payments=len(student_finance),
        student_finance_last_on=max(student_finance, default=None),
        highest_checking_balance=max(checking, default=None),
    )
