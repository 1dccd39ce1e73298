"""Fixtures for the customer's pages: logged-in browsers for the personas."""

import datetime as dt

import pytest
from django.utils import timezone

from ledger.models import Action
from tests.choices import choose_on_screen
from tests.factories import add_purpose


@pytest.fixture
def choose_now():
    """Record a choice `days_ago` before the real clock: the views judge validity today."""

    def choose_now(customer, purpose_code, action=Action.GRANTED, *, days_ago=0):
        at = timezone.now() - dt.timedelta(days=days_ago)
        return choose_on_screen(customer, purpose_code, action, at=at)

    return choose_now


@pytest.fixture
def customer(customer_who_did_not, choose_now):
    """A customer who switched on offers based on where they pay, today."""
    choose_now(customer_who_did_not, "offers_spending")
    return customer_who_did_not


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer.user)
    return client


@pytest.fixture
def add_purposes(db):
    """Extra consent-based purposes, each with a published text: a longer dashboard."""

    def add_purposes(count):
        for n in range(count):
            add_purpose(
                f"extra_{n}", position=10 + n, title_nl=f"Extra doel {n}", title_en=f"Extra {n}"
            )

    return add_purposes
