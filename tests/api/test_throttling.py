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


def test_every_answer_says_the_policy_and_what_is_left_of_it(db, app_for, low_rates):
    app = app_for(CustomerFactory())
    first, second = app.get("/api/v1/me/purposes"), app.get("/api/v1/me/history")
    assert first["RateLimit-Policy"] == '"read";q=3;w=60'
    assert first["RateLimit"] == '"read";r=2;t=60'
    assert second["RateLimit"] == '"read";r=1;t=60'
    choosing = app.post(
        "/api/v1/me/purposes/offers_income/choice", {"choice": "withdraw"}, format="json"
    )
    assert choosing["RateLimit-Policy"] == '"choose";q=2;w=60'


def test_the_429_says_nothing_is_left_and_when_to_come_back(db, app_for, low_rates, _frozen_clock):
    app = app_for(CustomerFactory())
    for _ in range(3):
        app.get("/api/v1/me/purposes")
    _frozen_clock.move_to(timezone.now() + dt.timedelta(seconds=20))
    refused = app.get("/api/v1/me/purposes")
    assert refused.status_code == 429
    assert refused["RateLimit"] == '"read";r=0;t=40'
    assert refused["Retry-After"] == "40"


def test_the_feed_says_its_own_policy(db, feed_client, low_rates):
    response = feed_client.get("/api/v1/consent-changes")
    assert response["RateLimit-Policy"] == '"feed";q=3;w=60'
    assert response["RateLimit"] == '"feed";r=2;t=60'


def test_no_token_no_rate_limit_headers(db):
    response = bearer(None).get("/api/v1/me/purposes")
    assert response.status_code == 401
    assert "RateLimit" not in response
