"""The export holds everything the bank holds about the customer (GDPR Art. 15 and 20).

What the bank holds is read from the schema, not from a list someone keeps: every table
with a foreign key to the customer, and every table with a foreign key to one of those
(an offer's events, a transaction of an account, …). Each is either in the export (the
section, and the key of an item that carries it) or named here with the reason it is
not. A new kind of data about customers fails this test until the export has it."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.utils import timezone

from consent.advance_notices import send_advance_notices
from consent.export import customer_export
from consent.models import ConsentState, Customer
from ledger.models import ConsentEvent
from tests.access.stories import approved_and_read
from tests.export_story import CALL_NOTE, CALLS_NOTE, PHONE, STAFF_NOTE, called_back_story
from tests.factories import publish_version_for_later

# table -> (export section, key of an item that holds it; None: the item itself)
EXPORTED = {
    "consent.Customer": ("profile", None),
    "consent.ConsentState": ("choices", None),
    "ledger.ConsentEvent": ("history", None),
    "consent.StaffAction": ("history", "staff_action"),
    "banking.Account": ("accounts", None),
    "banking.Holding": ("holdings", None),
    "banking.Transaction": ("transactions", None),
    "offers.Offer": ("offers", None),
    "offers.Offer_relied_on": ("offers", "relied_on"),
    "offers.OfferEvent": ("offers", "events"),
    "offers.FollowUp": ("offers", "follow_up"),
    "offers.DataUse": ("data_use", None),
    "api.LinkedApp": ("linked_apps", None),
    "consent.AdvanceNotice": ("advance_notices", None),
    "access.Permission": ("third_party_access", None),
    "access.PermittedAccount": ("third_party_access", "accounts"),
    "access.Read": ("third_party_access", "reads"),
}
NOT_EXPORTED = {
    # Written when retention removed the customer's whole chain, years after they left:
    # the profile is pseudonymised by then and nobody logs in as the customer any more.
    "ledger.LedgerTombstone": "left after the chain's retention ran out; no login remains",
    # The feed's copy, for the bank's other systems, of what `history` and `choices` say
    # (each row an event, or a consent that stopped counting): no data of its own.
    "api.ConsentChange": "a copy of history and validity for the bank's systems",
    # The same feed rows pushed to the bank's systems (api/webhooks.py), and how each
    # attempt went: about the bank's systems' receivers, nothing of the customer's own.
    "api.WebhookDelivery": "a feed row's delivery to one of the bank's systems",
    "api.WebhookAttempt": "how a receiver of the bank's systems answered",
    # The data user's feed: what it was told about a permission whose every change the
    # export holds (status, decided_at, ended_at, ended_by).
    "access.AccessChange": "a copy, for the data user, of third_party_access's changes",
}
# Fields of the customer's own row that the profile does not carry, and why.
CUSTOMER_FIELDS_NOT_IN_PROFILE = {
    "id": "the database's key",
    "user": "the login: its username is the customer number; the password only as a hash",
    "customer_number": "exported at the top level",
    "pseudonymised_on": "set only when nobody can log in any more",
}


def customer_tables() -> set[str]:
    """Every table with a foreign key to the customer, or to a table that has one."""
    reached: set[type[models.Model]] = {Customer}
    grew = True
    while grew:
        grew = False
        for model in apps.get_models(include_auto_created=True):
            if model in reached:
                continue
            if any(
                field.is_relation and field.concrete and field.related_model in reached
                for field in model._meta.get_fields()
            ):
                reached.add(model)
                grew = True
    return {model._meta.label for model in reached}


def test_every_table_about_customers_is_in_the_export_or_says_why_not():
    tables = customer_tables()
    assert sorted(tables - set(EXPORTED) - set(NOT_EXPORTED)) == [], (
        "data about customers that the export does not hold: add it to an app's export"
        " section (consent.signals.export_sections) and to EXPORTED"
    )
    # Nothing listed here that is not there any more.
    assert sorted((set(EXPORTED) | set(NOT_EXPORTED)) - tables) == []


def test_every_field_of_the_customer_is_in_the_profile_or_says_why_not(customer_who_did_not):
    profile = customer_export(customer_who_did_not)["profile"]
    fields = {field.name for field in Customer._meta.concrete_fields}
    assert sorted(fields - set(CUSTOMER_FIELDS_NOT_IN_PROFILE) - set(profile)) == []
    assert set(profile) == PROFILE_KEYS


PROFILE_KEYS = {
    "first_name",
    "last_name",
    "email",
    "phone",
    "birth_date",
    "language",
    "closed_on",
    "choices_lost_since",
}


@pytest.fixture
def lived(db):
    """Demo customer 100001 with every kind of data, all made by the real code."""
    call_command("load_demo", stdout=io.StringIO())
    call_command("generate_offers", stdout=io.StringIO())
    customer = called_back_story("100001", at=timezone.now())
    # Told that the text of a purpose the customer consented to will change.
    counting = ConsentState.objects.filter(customer=customer, state="granted").first()
    assert counting is not None
    now = timezone.now()
    publish_version_for_later(counting.purpose.code, at=now + dt.timedelta(days=20), now=now)
    assert send_advance_notices(at=now).sent >= 1
    # Let a budgeting app read the account, which it did (access, issue 26).
    # After the story's last event (it ran ahead of the clock).
    newest = ConsentEvent.objects.filter(customer=customer).order_by("-sequence").first()
    approved_and_read(customer, at=max(now, newest.occurred_at) + dt.timedelta(minutes=1))
    return customer


def test_a_customer_with_every_kind_of_data_finds_each_in_the_export(lived):
    data = customer_export(lived)
    assert set(data["profile"]) == PROFILE_KEYS
    for table, (section, key) in EXPORTED.items():
        value = data[section]
        items = [value] if isinstance(value, dict) else value
        assert items, f"{table}: section {section!r} is empty"
        if key is not None:
            assert any(item.get(key) for item in items), f"{table}: no {section}[].{key}"
    assert data["profile"]["phone"] == PHONE
    # Two choices a staff member recorded on the phone: offers on income, and calls.
    by_phone, calls = sorted(
        (e for e in data["history"] if e["staff_action"]),
        key=lambda e: e["staff_action"]["note"] != STAFF_NOTE,
    )
    assert calls["staff_action"]["note"] == CALLS_NOTE
    assert by_phone["staff_action"]["note"] == STAFF_NOTE
    assert by_phone["staff_action"]["channel"] == "phone"
    assert by_phone["staff_action"]["identity_checked"] is True
    (offer,) = data["offers"]
    assert CALL_NOTE in [event["reason"] for event in offer["events"]]
    assert offer["follow_up"]["outcome"] == "taken"
    history_ids = {event["id"] for event in data["history"]}
    assert set(offer["relied_on"]) <= history_ids
