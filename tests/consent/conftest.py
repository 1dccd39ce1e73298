"""Fixtures for the customer's pages: logged-in browsers for the personas."""

import datetime as dt

import pytest
from django.utils import timezone

from consent.models import Action, Channel, Purpose, PurposeVersion
from consent.services import record_choice


@pytest.fixture
def choose_now():
    """Record a choice `days_ago` before the real clock: the views judge validity today."""

    def choose_now(customer, purpose_code, action=Action.GRANTED, *, days_ago=0):
        return record_choice(
            customer=customer,
            purpose_code=purpose_code,
            action=action,
            channel=Channel.WEB,
            actor=customer.user,
            at=timezone.now() - dt.timedelta(days=days_ago),
        )

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
        published = timezone.now() - dt.timedelta(days=1)
        for n in range(count):
            purpose = Purpose.objects.create(
                code=f"extra_{n}",
                legal_basis="consent",
                required=False,
                data_categories=["account_balances"],
                retention_nl="1 jaar",
                retention_en="1 year",
                position=10 + n,
            )
            PurposeVersion.objects.create(
                purpose=purpose,
                version=1,
                material=True,
                published_at=published,
                title_nl=f"Extra doel {n}",
                title_en=f"Extra purpose {n}",
                description_nl="Omschrijving",
                description_en="Description",
                data_used_nl="Saldo",
                data_used_en="Balance",
            )

    return add_purposes
