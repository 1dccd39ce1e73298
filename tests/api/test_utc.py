"""Moments in the API's answers are UTC with `Z` (RFC 3339), whatever the site's time zone
(Amsterdam); the signed receipts and the export keep their own form, unchanged."""

import datetime as dt
import json
import re

import pytest

from ledger.models import ConsentEvent
from tests.factories import CustomerFactory

from .follower import snapshot as snapshot_of

UTC_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.fixture
def sanne(db, choose):
    sanne = CustomerFactory(customer_number="830001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


def as_utc(text):
    assert UTC_MOMENT.match(text), text
    return dt.datetime.fromisoformat(text)


def test_the_cards_and_the_history_give_moments_in_utc(sanne, app_for):
    app = app_for(sanne)
    event = ConsentEvent.objects.get(customer=sanne)
    spending = app.get("/api/v1/me/purposes/offers_spending").json()
    assert as_utc(spending["state"]["changed_at"]) == event.occurred_at
    (listed,) = app.get("/api/v1/me/history").json()["events"]
    assert as_utc(listed["occurred_at"]) == event.occurred_at


def test_the_feed_and_its_snapshot_give_moments_in_utc(sanne, feed_client):
    (change,) = feed_client.get("/api/v1/consent-changes").json()["changes"]
    as_utc(change["effective_at"])
    as_utc(change["recorded_at"])
    response = feed_client.get("/api/v1/purposes/offers_spending/valid-customers")
    snapshot = snapshot_of(response)
    as_utc(snapshot["at"])
    (customer,) = snapshot["customers"]
    as_utc(customer["since"])


def test_the_purposes_and_the_check_give_moments_in_utc(sanne, app_for, crm):
    from .conftest import CHECK, bearer, issue_token

    for purpose in app_for(sanne).get("/api/v1/purposes").json()["purposes"]:
        as_utc(purpose["published_at"])
    checker = bearer(issue_token(crm, scope=CHECK))
    as_utc(checker.get("/api/v1/customers/830001/may-use/offers_spending").json()["since"])


def test_the_receipt_is_the_websites_document_unchanged(sanne, app_for, client):
    event = ConsentEvent.objects.get(customer=sanne)
    from_app = app_for(sanne).get(f"/api/v1/me/history/{event.pk}/receipt").json()
    client.force_login(sanne.user)
    from_site = json.loads(client.get(f"/history/{event.pk}/receipt.json").content)
    assert from_app == from_site
    assert from_app["consentTimestamp"] == int(event.occurred_at.timestamp())
