import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from tests.choices import choose_on_screen
from tests.factories import CustomerFactory, UserFactory

from .factories import AccountFactory, TransactionFactory, hold

AS_OF = dt.date(2026, 11, 2)


@pytest.fixture
def as_of():
    return AS_OF


def days_before(days: int, hour: int = 12) -> dt.datetime:
    """Noon (Amsterdam) `days` days before the as-of date."""
    return timezone.make_aware(dt.datetime.combine(AS_OF - dt.timedelta(days=days), dt.time(hour)))


@pytest.fixture
def traveller(db, choose):
    """Sanne: insured for Europe only, switched on offers based on where she pays, and
    paid by card in the United States twice last month."""
    sanne = CustomerFactory(customer_number="500001", first_name="Sanne")
    hold(sanne, "travel_insurance_europe")
    account = AccountFactory(customer=sanne)
    choose(sanne, "offers_spending", days_ago=30)
    for days in (20, 12):
        TransactionFactory(account=account, booked_at=days_before(days), country="US", mcc="5812")
    return sanne


@pytest.fixture
def student(db, choose):
    """Lucas, 20: receives student finance and switched on offers based on who pays him."""
    lucas = CustomerFactory(customer_number="500002", birth_date=dt.date(2006, 9, 1))
    account = AccountFactory(customer=lucas)
    choose(lucas, "offers_income", days_ago=30)
    TransactionFactory(
        account=account,
        booked_at=days_before(14),
        amount="312.00",
        mcc=None,
        counterparty_name="DUO",
    )
    return lucas


@pytest.fixture
def saver(db, choose):
    """Noor: 12,500 on her checking account, offers based on her balance switched on."""
    noor = CustomerFactory(customer_number="500003")
    AccountFactory(customer=noor, balance="12500.00")
    choose(noor, "offers_balance", days_ago=30)
    return noor


# --- Staff and customers around the test's clock (the admin and the pages use timezone.now)
@pytest.fixture
def reviewer(db):
    """Rik works the offers queue: a staff member in the `Offer reviewers` group only."""
    return staff_in_group("rik", "Offer reviewers")


@pytest.fixture
def privacy_officer(db):
    """Petra is the bank's privacy officer: in the `Privacy officers` group only."""
    return staff_in_group("petra", "Privacy officers")


@pytest.fixture
def contact_centre(db):
    """Karim answers the phone: a staff member in the `Klantenservice` group only."""
    return staff_in_group("karim", "Klantenservice")


def staff_in_group(username, group):
    user = UserFactory(username=username, is_staff=True)
    user.groups.set([Group.objects.get(name=group)])
    return user


@pytest.fixture
def sanne(db, choose):
    """Sanne switched on offers based on where she pays, a hundred days ago."""
    sanne = CustomerFactory(customer_number="510001", first_name="Sanne")
    choose(sanne, "offers_spending", at=timezone.now() - dt.timedelta(days=100))
    return sanne


@pytest.fixture
def daan(db, choose):
    """Daan switched on offers based on his balance, ten days ago."""
    daan = CustomerFactory(customer_number="510002", first_name="Daan")
    choose(daan, "offers_balance", at=timezone.now() - dt.timedelta(days=10))
    return daan


@pytest.fixture
def allow_calls(db, now):
    """A customer switches on "Telefoon over aanbiedingen" on their dashboard, when the
    test's clock started: only then does "Interessant" put them on the contact centre's
    list (consent.channels)."""

    def allow_calls(customer, *, at=None):
        return choose_on_screen(customer, "contact_phone", at=at or now)

    return allow_calls
