"""A simulated data user (a budgeting app) and a customer with payment accounts."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone
from oauth2_provider.models import Application

from access.models import DataUser
from tests.api.conftest import bearer, issue_token
from tests.factories import CustomerFactory
from tests.offers.factories import AccountFactory, TransactionFactory

AIS = "psd2:ais"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def register_data_user(name="Budgetkompas", *, number="PSD2-NL-0042", at=None) -> DataUser:
    application = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=f"{name}-secret-" + "x" * 40,
        algorithm="",
    )
    application.save()
    return DataUser.objects.create(
        name=name,
        registration_number=number,
        country="NL",
        contact="privacy@budgetkompas.example",
        application=application,
        registered_at=at or timezone.now(),
    )


@pytest.fixture
def data_user(db):
    return register_data_user()


@pytest.fixture
def tpp(data_user):
    """The data user's API client, with a client-credentials token."""
    return bearer(issue_token(data_user.application, scope=AIS))


@pytest.fixture
def sanne(db):
    """A customer with a checking account (with transactions), a student account and a
    savings account (not a payment account)."""
    customer = CustomerFactory(customer_number="300001")
    customer.user.set_password("demo-privacy-2026")
    customer.user.save()
    checking = AccountFactory(customer=customer, kind="checking", iban="NL91TEST0000000001")
    AccountFactory(customer=customer, kind="student", iban="NL91TEST0000000002")
    AccountFactory(customer=customer, kind="savings", iban="NL91TEST0000000003")
    now = timezone.now()
    for days, amount in ((2, "-12.50"), (20, "-80.00"), (60, "2000.00"), (200, "-5.00")):
        TransactionFactory(
            account=checking,
            booked_at=now - dt.timedelta(days=days),
            amount=Decimal(amount),
            counterparty_name="Albert Heijn",
        )
    return customer


@pytest.fixture
def other_customer(db):
    customer = CustomerFactory(customer_number="300002")
    account = AccountFactory(customer=customer, kind="checking", iban="NL91TEST0000000009")
    TransactionFactory(
        account=account, booked_at=timezone.now() - dt.timedelta(days=3), amount=Decimal("-99.99")
    )
    return customer


def consent_body(*, ibans=None, days=90, frequency=4, all_accounts=False):
    if all_accounts:
        access = {"allPsd2": "allAccounts"}
    else:
        listed = [{"iban": iban} for iban in ibans or ["NL91TEST0000000001"]]
        access = {"accounts": listed, "balances": listed, "transactions": listed}
    return {
        "access": access,
        "recurringIndicator": True,
        "validUntil": (timezone.localdate() + dt.timedelta(days=days)).isoformat(),
        "frequencyPerDay": frequency,
        "combinedServiceIndicator": False,
        "purpose": "Uw uitgaven per maand in een overzicht",
    }
