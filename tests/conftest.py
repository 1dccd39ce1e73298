import datetime as dt

import pytest
from django.utils import timezone

from consent.models import Action, Channel
from consent.services import record_choice
from tests.factories import CustomerFactory

NOW = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))


@pytest.fixture
def now():
    return NOW


@pytest.fixture
def choose(now):
    """Record a customer's choice on the web, as the customer, `days_ago` before now."""

    def choose(customer, purpose_code, action=Action.GRANTED, *, days_ago=0, at=None):
        return record_choice(
            customer=customer,
            purpose_code=purpose_code,
            action=action,
            channel=Channel.WEB,
            actor=customer.user,
            at=at or now - dt.timedelta(days=days_ago),
        )

    return choose


@pytest.fixture
def customer_who_consented(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago."""
    sanne = CustomerFactory(customer_number="300001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def customer_who_did_not(db):
    """Daan never switched anything on."""
    return CustomerFactory(customer_number="300002", first_name="Daan")
