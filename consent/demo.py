"""Demo customers and their choices, for `load_demo`. Known passwords, printed by `make run`."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from consent.choices import notice_on_screen, record_choice
from ledger.models import Action, Channel

from .models import Customer

DEMO_PASSWORD = "demo-privacy-2026"  # noqa: S105 - printed for the demo on purpose

# (number, first, last, email, birth date, language, [(days ago, purpose, action)])
DemoCustomer = tuple[str, str, str, str, dt.date, str, list[tuple[int, str, Action]]]
DEMO_CUSTOMERS: tuple[DemoCustomer, ...] = (
    (
        "100001",
        "Sanne",
        "de Vries",
        "sanne@example.nl",
        dt.date(1988, 3, 14),
        "nl",
        [
            (400, "offers_spending", Action.GRANTED),
            (200, "offers_balance", Action.GRANTED),
            (120, "offers_spending", Action.WITHDRAWN),
            (30, "offers_spending", Action.GRANTED),
        ],
    ),
    ("100002", "Daan", "Jansen", "daan@example.nl", dt.date(1975, 11, 2), "nl", []),
    (
        "100003",
        "Emma",
        "Bakker",
        "emma@example.com",
        dt.date(1969, 6, 30),
        "en",
        [
            # Older than CONSENT_MAX_AGE_DAYS: the dashboard asks for a new choice.
            (800, "offers_balance", Action.GRANTED),
            (60, "offers_spending", Action.GRANTED),
        ],
    ),
    (
        "100004",
        "Lucas",
        "Visser",
        "lucas@example.nl",
        dt.date(2006, 9, 1),
        "nl",
        [
            (45, "offers_income", Action.GRANTED),
        ],
    ),
    (
        "100005",
        "Noor",
        "El Amrani",
        "noor@example.nl",
        dt.date(1992, 1, 20),
        "nl",
        [
            (90, "offers_spending", Action.GRANTED),
            (90, "offers_income", Action.GRANTED),
            (90, "offers_balance", Action.GRANTED),
        ],
    ),
    (
        # 17 until June 2027: may consent (16+), too young for the student account (18+).
        "100006",
        "Milan",
        "Smit",
        "milan@example.nl",
        dt.date(2009, 6, 1),
        "nl",
        [
            (20, "offers_income", Action.GRANTED),
        ],
    ),
    (
        "100007",
        "Tess",
        "Mulder",
        "tess@example.com",
        dt.date(1996, 4, 9),
        "en",
        [
            (300, "offers_spending", Action.GRANTED),
            (300, "offers_income", Action.GRANTED),
        ],
    ),
)


def demo_logins() -> list[tuple[str, str, str]]:
    return [
        (number, DEMO_PASSWORD, f"{first} {last}") for number, first, last, *_ in DEMO_CUSTOMERS
    ]


@transaction.atomic
def load_demo_customers(*, now: dt.datetime) -> list[Customer]:
    User = get_user_model()
    customers = []
    for number, first, last, email, birth_date, language, choices in DEMO_CUSTOMERS:
        user = User(username=number, first_name=first, last_name=last, email=email)
        user.set_password(DEMO_PASSWORD)
        user.save()
        customer = Customer.objects.create(
            user=user,
            customer_number=number,
            first_name=first,
            last_name=last,
            email=email,
            birth_date=birth_date,
            language=language,
        )
        for days_ago, purpose_code, action in choices:
            record_choice(
                customer=customer,
                purpose_code=purpose_code,
                action=action,
                channel=Channel.WEB,
                actor=user,
                at=now - dt.timedelta(days=days_ago),
                language=language,
                **notice_on_screen(
                    purpose_code=purpose_code,
                    at=now - dt.timedelta(days=days_ago),
                    language=language,
                ),
            )
        customers.append(customer)
    return customers
