"""Logins hold against strangers, over HTTP through the whole stack.

The reverse proxy connects from 127.0.0.1 and appends the address it saw to
X-Forwarded-For; the tests send exactly that.
"""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import CustomerFactory

PASSWORD = "correct horse battery"
PROXY = "127.0.0.1"
STRANGER = "203.0.113.9"
CUSTOMER_HOME = "198.51.100.7"
START = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))


@pytest.fixture(autouse=True)
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1


@pytest.fixture
def anna(db):
    return CustomerFactory(customer_number="100001")


def log_in(client, username, password, *, seen_as, sent=None):
    """A login through the proxy: `sent` is whatever X-Forwarded-For the client sent."""
    forwarded = f"{sent}, {seen_as}" if sent else seen_as
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_failures_from_another_address_do_not_lock_out_the_customer(client, anna):
    for _ in range(4):
        assert log_in(client, "100001", "guess", seen_as=STRANGER).status_code == 200
    assert log_in(client, "100001", "guess", seen_as=STRANGER).status_code == 429
    # The stranger is now locked out for this customer, even with the right password ...
    assert log_in(client, "100001", PASSWORD, seen_as=STRANGER).status_code == 429
    # ... and the customer, at home, is not.
    response = log_in(client, "100001", PASSWORD, seen_as=CUSTOMER_HOME)
    assert response.status_code == 302 and response.url == "/"


def test_a_client_cannot_choose_its_address_by_sending_x_forwarded_for(client, anna):
    for n in range(5):
        log_in(client, "100001", "guess", seen_as=STRANGER, sent=f"10.0.0.{n}")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {STRANGER}
    assert log_in(client, "100001", PASSWORD, seen_as=STRANGER, sent=CUSTOMER_HOME).status_code == (
        429
    )


def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(client, anna, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client.post(
        "/accounts/login/",
        {"username": "100001", "password": "guess"},
        REMOTE_ADDR="192.0.2.50",
        HTTP_X_FORWARDED_FOR=CUSTOMER_HOME,
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.50"]


def test_an_address_spraying_guesses_over_many_customer_numbers_is_throttled(
    client, anna, settings
):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 12
    for n in range(12):
        # Under the per-username limit for every number: only the address adds up.
        assert log_in(client, f"1000{10 + n}", "guess", seen_as=STRANGER).status_code == 200
    refused = log_in(client, "100001", PASSWORD, seen_as=STRANGER)
    assert refused.status_code == 429
    assert "Tijdelijk geblokkeerd" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert log_in(client, "100001", PASSWORD, seen_as=CUSTOMER_HOME).status_code == 302


def test_the_staff_login_is_throttled_per_address_too(client, db, settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 3
    for n in range(3):
        client.post(
            "/admin/login/",
            {"username": f"staff{n}", "password": "guess"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=STRANGER,
        )
    response = client.post(
        "/admin/login/",
        {"username": "reviewer", "password": "guess"},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=STRANGER,
    )
    assert response.status_code == 429


@pytest.mark.parametrize("username", ["1" * 256, "1" * 151, "100001\x00", "x" * 10_000])
def test_an_impossible_username_is_an_ordinary_failed_login(client, anna, username):
    response = log_in(client, username, "guess", seen_as=STRANGER)
    assert response.status_code == 200
    assert "Uw klantnummer of wachtwoord klopt niet" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_an_overlong_username_on_the_staff_login_is_an_ordinary_failed_login(client, db):
    response = client.post("/admin/login/", {"username": "s" * 300, "password": "guess"})
    assert response.status_code == 200
    assert response.context["form"].errors


# --- Sessions ----------------------------------------------------------------------------
@pytest.fixture
def logged_in(client, anna):
    with time_machine.travel(START, tick=False) as clock:
        assert log_in(client, "100001", PASSWORD, seen_as=CUSTOMER_HOME).status_code == 302
        yield clock


def dashboard(client):
    return client.get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=CUSTOMER_HOME)


def test_a_session_ends_after_fifteen_idle_minutes(client, logged_in):
    logged_in.shift(dt.timedelta(minutes=16))
    response = dashboard(client)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_using_the_site_keeps_the_session_alive(client, logged_in):
    for _ in range(4):
        logged_in.shift(dt.timedelta(minutes=10))
        assert dashboard(client).status_code == 200


def test_a_session_ends_eight_hours_after_login_however_busy(client, logged_in):
    for _ in range(8 * 60 // 14):
        logged_in.shift(dt.timedelta(minutes=14))
        assert dashboard(client).status_code == 200
    logged_in.shift(dt.timedelta(minutes=14))
    response = dashboard(client)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")


def test_a_request_within_a_minute_of_the_last_writes_no_session(client, logged_in):
    logged_in.shift(dt.timedelta(minutes=2))
    assert dashboard(client).status_code == 200  # refreshes the idle clock
    logged_in.shift(dt.timedelta(seconds=30))
    with CaptureQueriesContext(connection) as queries:
        assert dashboard(client).status_code == 200
    assert not [q for q in queries if "django_session" in q["sql"] and "UPDATE" in q["sql"]]


def test_the_session_cookie_lasts_only_as_long_as_the_browser(client, anna):
    response = log_in(client, "100001", PASSWORD, seen_as=CUSTOMER_HOME)
    cookie = response.cookies["sessionid"]
    assert cookie["expires"] == "" and cookie["max-age"] == ""
