"""Demo banking data for `load_demo`: each rule fires for someone and not for others.

Expected offers when `generate_offers` runs on the day the demo was loaded:

- 100001 Sanne (spending, balance): Europe insurance, 3 card payments in the US
  → travel_world_cover (her pharmacy payment there is excluded and not counted);
- 100002 Daan (no consent): the same data and a high balance → nothing;
- 100003 Emma (spending; balance consent too old): her only payment outside Europe is
  at a hospital in Thailand (MCC 8062, excluded), high balance → nothing;
- 100004 Lucas (income): DUO every month, 20 years old → student_account;
- 100005 Noor (all three): 12,500 on checking → savings_account; already insured
  world-wide, so her US payments change nothing;
- 100006 Milan (income): DUO payments, but 17 → nothing;
- 100007 Tess (spending, income): a US payment 120 days ago, DUO 200 days ago → nothing,
  both are outside the 90-day window.
"""

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from banking import synthetic
from banking.imports import AccountImport, HoldingImport, TransactionImport
from banking.models import Account, Holding, Product, Transaction, ensure_transaction_months
from consent.choices import notice_on_screen, record_choice, stop_all_offers
from consent.models import Customer, PurposeVersion
from ledger.models import Action, Channel
from lifecycle.leaving import close_customer
from lifecycle.retention import database_today

# customer number: [(account kind, balance)], [products held]
ACCOUNTS = {
    "100001": [("checking", "4200.00")],
    "100002": [("checking", "25000.00")],
    "100003": [("checking", "15000.00"), ("savings", "30000.00")],
    "100004": [("checking", "850.00")],
    "100005": [("checking", "12500.00")],
    "100006": [("checking", "120.00")],
    "100007": [("checking", "2300.00")],
}
HOLDINGS = {
    "100001": ["travel_insurance_europe"],
    "100002": ["travel_insurance_europe"],
    "100003": ["travel_insurance_europe"],
    "100005": ["travel_insurance_world"],
    "100007": ["travel_insurance_europe"],
}
SUPERMARKET, RESTAURANT, HOTEL, HOSPITAL, PHARMACY = "5411", "5812", "7011", "8062", "5912"
# customer number: [(days ago, amount, counterparty, mcc or None, country)]
TRANSACTIONS: dict[str, list[tuple[int, str, str, str | None, str]]] = {
    "100001": [
        (40, "-62.10", "Albert Heijn", SUPERMARKET, "NL"),
        (21, "-184.00", "Hotel Chelsea", HOTEL, "US"),
        (20, "-38.50", "Joe's Diner", RESTAURANT, "US"),
        (19, "-12.75", "Whole Foods", SUPERMARKET, "US"),
        (18, "-45.00", "Walgreens", PHARMACY, "US"),  # excluded: not counted
        (10, "-250.00", "P. Jansen", None, "NL"),  # a private person: never used
    ],
    "100002": [
        (30, "-90.00", "Macy's", "5311", "US"),
        (15, "-20.00", "Jumbo", SUPERMARKET, "NL"),
    ],
    "100003": [
        (50, "-35.20", "Mercadona", SUPERMARKET, "ES"),
        (25, "-420.00", "Bangkok Hospital", HOSPITAL, "TH"),
        (5, "-18.00", "Bakker Bart", "5462", "NL"),
    ],
    "100004": [
        (75, "312.00", "DUO", None, "NL"),
        (45, "312.00", "DUO", None, "NL"),
        (14, "312.00", "Dienst Uitvoering Onderwijs", None, "NL"),
        (12, "-4.50", "Coffee Company", "5814", "NL"),
    ],
    "100005": [
        (60, "-300.00", "Delta Air Lines", "3058", "US"),
        (55, "-75.00", "Shake Shack", RESTAURANT, "US"),
    ],
    "100006": [
        (40, "120.00", "DUO", None, "NL"),
        (10, "120.00", "DUO", None, "NL"),
    ],
    "100007": [
        (120, "-88.00", "Target", "5311", "US"),
        (200, "312.00", "DUO", None, "NL"),
        (30, "-15.00", "Lidl", SUPERMARKET, "NL"),
    ],
}


def demo_iban(customer_number: str, position: int) -> str:
    return synthetic.iban("NL", "DEMO", int(customer_number) * 10 + position)


@transaction.atomic
def load_demo_banking(*, now: dt.datetime) -> None:
    customers = {c.customer_number: c for c in Customer.objects.filter(pk__in=_demo_ids())}
    products = {p.code: p for p in Product.objects.all()}
    accounts = {}
    for number, kinds in ACCOUNTS.items():
        for position, (kind, balance) in enumerate(kinds):
            accounts[(number, position)] = Account.objects.create(
                iban=demo_iban(number, position),
                customer=customers[number],
                kind=kind,
                balance=Decimal(balance),
            )
    Holding.objects.bulk_create(
        Holding(customer=customers[number], product=products[code])
        for number, codes in HOLDINGS.items()
        for code in codes
    )
    ensure_transaction_months(
        now - dt.timedelta(days=row[0]) for rows in TRANSACTIONS.values() for row in rows
    )
    Transaction.objects.bulk_create(
        Transaction(
            transaction_id=f"DEMO-{number}-{i:03d}",
            account=accounts[(number, 0)],
            booked_at=now - dt.timedelta(days=days_ago),
            amount=Decimal(amount),
            currency="EUR",
            counterparty_name=name,
            mcc=mcc,
            country=country,
        )
        for number, rows in TRANSACTIONS.items()
        for i, (days_ago, amount, name, mcc, country) in enumerate(rows)
    )


# Staff for the demo: (username, group, name). Permissions come from the group only
# (the migration that creates the groups), never from the user.
DEMO_STAFF = (
    ("reviewer", "Offer reviewers", "Rik", "Reviewer"),
    ("privacy", "Privacy officers", "Petra", "Privacy"),
    # A second privacy officer: a new API client needs two (four eyes, api/clients.py).
    ("privacy2", "Privacy officers", "Pieter", "Privacy"),
    ("klantenservice", "Klantenservice", "Karim", "Klantenservice"),
    # Issues activation codes for colleagues' authenticators (config/staff_otp).
    ("toegang", "Access managers", "Tom", "Toegang"),
)


@transaction.atomic
def load_demo_staff(*, password: str) -> None:
    User = get_user_model()
    for username, group, first, last in DEMO_STAFF:
        user = User(username=username, first_name=first, last_name=last, is_staff=True)
        user.set_password(password)
        user.save()
        user.groups.set([Group.objects.get(name=group)])


def demo_staff_logins(*, password: str) -> list[tuple[str, str, str]]:
    return [(username, password, f"staff: {group}") for username, group, *_ in DEMO_STAFF]


def _demo_ids():
    return Customer.objects.filter(customer_number__in=ACCOUNTS).values("pk")


def load_synthetic_customers(*, count: int, now: dt.datetime, seed: int = 7) -> None:
    """`count` more customers with banking data, through the real import path, and
    consent histories that only hold choices the rules allow (`synthetic.consent_histories`),
    recorded by the same services as every choice."""
    from banking.customer_imports import CustomerImport

    today = timezone.localdate(now)
    rows = list(synthetic.customer_rows(count=count, first_number=700000, today=today, seed=seed))
    numbers = [row[0] for row in rows]
    with tempfile.TemporaryDirectory() as folder, transaction.atomic():
        path = Path(folder)
        CustomerImport(today=today).run(
            synthetic.write_csv(path / "customers.csv", CustomerImport.columns, rows)
        )
        accounts = list(synthetic.account_rows(customer_numbers=numbers, seed=seed))
        AccountImport().run(
            synthetic.write_csv(path / "accounts.csv", AccountImport.columns, accounts)
        )
        HoldingImport().run(
            synthetic.write_csv(
                path / "holdings.csv",
                HoldingImport.columns,
                synthetic.holding_rows(customer_numbers=numbers, seed=seed),
            )
        )
        checking = [row[0] for row in accounts if row[2] == "checking"]
        TransactionImport().run(
            synthetic.write_transactions_csv(
                path / "transactions.csv",
                ibans=checking,
                count=count * 60,
                as_of=today,
                first_id=9_000_000_000,
            )
        )
        by_number = {
            c.customer_number: c for c in Customer.objects.filter(customer_number__in=numbers)
        }
        histories = synthetic.consent_histories(
            customers=[(row[0], dt.date.fromisoformat(row[4])) for row in rows],
            texts_from=first_published(),
            now=now,
            # The database refuses a departure after its own date.
            leave_by=min(today, database_today()),
            seed=seed,
            mix=synthetic.DEMO_MIX,
        )
        for choice in histories:
            record_planned(by_number[choice.customer_number], choice)


def first_published() -> dict[str, dt.datetime]:
    """When each offers purpose's first text was published: no grant before it."""
    return dict(
        PurposeVersion.objects.filter(purpose__code__in=synthetic.OFFERS_PURPOSES)
        .values("purpose__code")
        .annotate(first=Min("published_at"))
        .values_list("purpose__code", "first")
    )


def record_planned(customer: Customer, choice: synthetic.PlannedChoice) -> None:
    """One planned choice, through the function that records it for real."""
    at, language = choice.at, customer.language
    if choice.step in (synthetic.Step.GRANT, synthetic.Step.WITHDRAW):
        assert choice.purpose is not None
        record_choice(
            customer=customer,
            purpose_code=choice.purpose,
            action=Action.GRANTED if choice.step == synthetic.Step.GRANT else Action.WITHDRAWN,
            channel=Channel.IMPORT,
            actor=None,
            at=at,
            language=language,
            **notice_on_screen(purpose_code=choice.purpose, at=at, language=language),
        )
    elif choice.step == synthetic.Step.STOP_ALL_OFFERS:
        stop_all_offers(
            customer=customer, channel=Channel.IMPORT, actor=None, at=at, language=language
        )
    else:
        close_customer(customer=customer, on=timezone.localdate(at), at=at)
