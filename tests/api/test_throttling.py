"""Per-token rate limits (DRF throttling): too many requests answer 429 with Retry-After,
counted per token holder, so one client's burst does not slow another."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import CustomerFactory

from .conftest import bearer, issue_token


@pytest.fixture
def low_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"read": "3/min", "choose": "2/min", "feed": "3/min"},
    }


def test_the_fourth_read_in_a_minute_is_429_with_retry_after(db, app_for, low_rates):
    app = app_for(CustomerFactory())
    statuses = [app.get("/api/v1/me/purposes").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = app.get("/api/v1/me/purposes")
    assert int(response["Retry-After"]) <= 60
    assert response.json()["detail"]


def test_the_limit_holds_for_the_customer_across_fresh_tokens(db, bank_app, low_rates):
    sanne = CustomerFactory()
    for _ in range(3):
        token = issue_token(bank_app, user=sanne.user, scope="consent:read")
        assert bearer(token).get("/api/v1/me/history").status_code == 200
    token = issue_token(bank_app, user=sanne.user, scope="consent:read")
    assert bearer(token).get("/api/v1/me/history").status_code == 429


def test_one_customers_burst_does_not_limit_another(db, app_for, low_rates):
    busy, calm = app_for(CustomerFactory()), app_for(CustomerFactory())
    for _ in range(4):
        busy.get("/api/v1/me/purposes")
    assert calm.get("/api/v1/me/purposes").status_code == 200


def test_the_limit_lifts_after_a_minute(db, app_for, low_rates, _frozen_clock):
    app = app_for(CustomerFactory())
    for _ in range(3):
        app.get("/api/v1/me/purposes")
    assert app.get("/api/v1/me/purposes").status_code == 429
    _frozen_clock.move_to(timezone.now() + dt.timedelta(seconds=61))
    assert app.get("/api/v1/me/purposes").status_code == 200


def test_choosing_has_its_own_lower_limit(db, app_for, low_rates):
    app = app_for(CustomerFactory())
    url, body = "/api/v1/me/purposes/offers_income/choice", {"choice": "withdraw"}
    statuses = [app.post(url, body, format="json").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    assert app.get("/api/v1/me/purposes").status_code == 200  # reading still works


def test_the_feed_is_limited_per_system(db, feed_client, low_rates):
    statuses = [feed_client.get("/api/v1/consent-changes").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
