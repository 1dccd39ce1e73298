"""The API's flows end to end, over real HTTP against the running server: the bank's
app doing OAuth 2.0 authorization code with PKCE (the customer logs in on our login
page), and a system of the bank following the feed with client credentials."""

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.management import call_command
from django.utils import timezone
from oauthlib.oauth2 import WebApplicationClient

from ledger.models import ConsentEvent
from tests.factories import CustomerFactory
from tests.pages import hidden_fields

from .conftest import APP_REDIRECT, FEED_SECRET, register_app, register_system
from .follower import Follower, truth

PASSWORD = "correct horse battery"


class LiveApi:
    """Calls the running server with a bearer token, like the app or a system would."""

    def __init__(self, base_url, token):
        self.base_url, self.token = base_url, token

    def get(self, path, params=None, **kwargs):
        return requests.get(
            self.base_url + path, params=params, headers=self.headers(), timeout=30, **kwargs
        )

    def post(self, path, json=None):
        return requests.post(self.base_url + path, json=json, headers=self.headers(), timeout=30)

    def headers(self):
        return {"Authorization": f"Bearer {self.token}"}


class App:
    """The bank's app: a public client with PKCE (RFC 7636, S256), in a browser session
    where the customer logs in."""

    def __init__(self, base_url, application):
        self.base_url = base_url
        self.client_id = application.client_id
        self.oauth = WebApplicationClient(self.client_id)
        self.browser = requests.Session()

    def authorization_url(self, *, scope, pkce=True, state="s-123"):
        extra = {}
        if pkce:
            self.verifier = self.oauth.create_code_verifier(64)
            extra = {
                "code_challenge": self.oauth.create_code_challenge(self.verifier, "S256"),
                "code_challenge_method": "S256",
            }
        return self.oauth.prepare_request_uri(
            f"{self.base_url}/api/v1/oauth/authorize/",
            redirect_uri=APP_REDIRECT,
            scope=scope,
            state=state,
            **extra,
        )

    def log_in(self, username, password=PASSWORD, *, next_url):
        login = self.browser.get(next_url, timeout=30)  # redirected to our login page
        assert urlsplit(login.url).path == "/accounts/login/", login.url
        form = hidden_fields(login.text)
        form.update(username=username, password=password)
        response = self.browser.post(login.url, data=form, allow_redirects=False, timeout=30)
        assert response.status_code == 302, response.text

    def authorize(self, customer, *, scope="consent:read consent:choose", pkce=True):
        """Log in, allow, and return the redirect back to the app (not followed)."""
        url = self.authorization_url(scope=scope, pkce=pkce)
        self.log_in(customer.customer_number, next_url=url)
        page = self.browser.get(url, timeout=30, allow_redirects=False)
        if page.status_code == 302:  # refused before the consent screen
            return page.headers["Location"]
        assert page.status_code == 200, page.text
        assert "toegang geven" in page.text.lower()
        form = hidden_fields(page.text)
        form["allow"] = "Authorize"
        answer = self.browser.post(url, data=form, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text
        return answer.headers["Location"]

    def token(self, location, *, verifier=None):
        code = self.oauth.parse_request_uri_response(location, state="s-123")["code"]
        body = self.oauth.prepare_request_body(
            code=code,
            redirect_uri=APP_REDIRECT,
            code_verifier=verifier or self.verifier,
            include_client_id=True,
        )
        return self.post_token(body)

    def refresh(self, refresh_token):
        body = self.oauth.prepare_refresh_body(
            refresh_token=refresh_token, client_id=self.client_id
        )
        return self.post_token(body)

    def post_token(self, body):
        return requests.post(
            f"{self.base_url}/api/v1/oauth/token/",
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            timeout=30,
        )

    def revoke(self, token):
        return requests.post(
            f"{self.base_url}/api/v1/oauth/revoke_token/",
            data={"token": token, "client_id": self.client_id},
            timeout=30,
        )


def system_token(base_url, client_id, secret=FEED_SECRET, scope="consent:feed"):
    return requests.post(
        f"{base_url}/api/v1/oauth/token/",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(client_id, secret),
        timeout=30,
    )


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch):
    """The test server speaks plain HTTP on 127.0.0.1; production is behind TLS (README).
    oauthlib refuses http unless told this is such a setup."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def sanne(transactional_db, choose):
    sanne = CustomerFactory(customer_number="950001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def app(live_server, transactional_db):
    return App(live_server.url, register_app())


# --- The app: authorization code with PKCE --------------------------------------------------
def test_the_app_gets_a_token_with_pkce_and_the_customer_chooses_through_it(app, sanne):
    response = app.token(app.authorize(sanne))
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"consent:read", "consent:choose"}
    api = LiveApi(app.base_url, tokens["access_token"])

    cards = api.get("/api/v1/me/purposes").json()["purposes"]
    spending = next(card for card in cards if card["code"] == "offers_spending")
    assert spending["valid"] is True
    withdrawn = api.post("/api/v1/me/purposes/offers_spending/choice", {"choice": "withdraw"})
    assert withdrawn.status_code == 200
    event = ConsentEvent.objects.filter(customer=sanne).latest("sequence")
    assert (event.action, event.channel, event.actor_id) == ("withdrawn", "app", sanne.user_id)


def test_the_redirect_back_to_the_app_names_the_issuer(app, sanne):
    query = parse_qs(urlsplit(app.authorize(sanne)).query)
    assert query["state"] == ["s-123"] and query["code"]
    assert query["iss"] == [app.base_url]  # RFC 9207: the app checks who answered


def test_without_pkce_there_is_no_code(app, sanne):
    location = app.authorize(sanne, pkce=False)
    query = parse_qs(urlsplit(location).query)
    assert "code" not in query and query["error"] == ["invalid_request"]


def test_a_code_with_the_wrong_verifier_gets_no_token(app, sanne):
    location = app.authorize(sanne)
    response = app.token(location, verifier=app.oauth.create_code_verifier(64))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_works_once(app, sanne):
    location = app.authorize(sanne)
    assert app.token(location).status_code == 200
    assert app.token(location).json()["error"] == "invalid_grant"


def test_the_app_cannot_ask_for_the_feed(app, sanne):
    location = app.authorize(sanne, scope="consent:read consent:feed")
    query = parse_qs(urlsplit(location).query)
    assert "code" not in query and query["error"] == ["invalid_scope"]


def test_refresh_rotates_and_a_replayed_refresh_token_revokes_the_family(app, sanne):
    first = app.token(app.authorize(sanne)).json()
    second = app.refresh(first["refresh_token"])
    assert second.status_code == 200, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert LiveApi(app.base_url, second["access_token"]).get("/api/v1/me/history").ok
    # The old refresh token again: a thief's replay. It fails, and so does everything
    # issued from it since.
    replay = app.refresh(first["refresh_token"])
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert LiveApi(app.base_url, second["access_token"]).get("/api/v1/me/history").status_code == (
        401
    )


def test_an_access_token_lasts_one_hour(app, sanne, _frozen_clock):
    tokens = app.token(app.authorize(sanne)).json()
    api = LiveApi(app.base_url, tokens["access_token"])
    _frozen_clock.move_to(timezone.now() + dt.timedelta(minutes=59))
    assert api.get("/api/v1/me/purposes").status_code == 200
    _frozen_clock.move_to(timezone.now() + dt.timedelta(minutes=2))
    assert api.get("/api/v1/me/purposes").status_code == 401
    assert app.refresh(tokens["refresh_token"]).status_code == 200


def test_the_app_revokes_its_token_at_logout(app, sanne):
    tokens = app.token(app.authorize(sanne)).json()
    assert app.revoke(tokens["access_token"]).status_code == 200
    api = LiveApi(app.base_url, tokens["access_token"])
    assert api.get("/api/v1/me/purposes").status_code == 401


# --- A system of the bank: client credentials, following the feed ----------------------------
def test_a_system_cannot_ask_for_a_customers_scope(live_server, transactional_db):
    crm = register_system()
    response = system_token(live_server.url, crm.client_id, scope="consent:read")
    assert response.status_code == 400 and response.json()["error"] == "invalid_scope"
    wrong = system_token(live_server.url, crm.client_id, secret="guess")
    assert wrong.status_code == 401


def test_a_feed_client_catches_up_after_a_withdrawal_and_after_an_expiry(
    app, sanne, choose, live_server, _frozen_clock
):
    crm = register_system()
    daan = CustomerFactory(customer_number="950002")
    choose(daan, "offers_income", days_ago=729)  # its last day is today

    def connect():
        response = system_token(live_server.url, crm.client_id)
        assert response.status_code == 200, response.text
        assert response.json()["scope"] == "consent:feed"
        return LiveApi(live_server.url, response.json()["access_token"])

    crm_system = Follower(connect)
    crm_system.catch_up()
    assert crm_system.holds(at=timezone.now()) == {
        ("950001", "offers_spending"),
        ("950002", "offers_income"),
    }

    # Sanne withdraws in the app; the CRM learns of it at its next read.
    tokens = app.token(app.authorize(sanne)).json()
    LiveApi(app.base_url, tokens["access_token"]).post(
        "/api/v1/me/purposes/offers_spending/choice", {"choice": "withdraw"}
    )
    crm_system.catch_up()
    assert crm_system.holds(at=timezone.now()) == {("950002", "offers_income")}

    # Midnight: Daan's consent has expired. The schedule records it; the CRM catches up.
    _frozen_clock.move_to(timezone.now() + dt.timedelta(days=1))
    call_command("record_consent_changes")
    crm_system.catch_up()
    assert crm_system.latest[("950002", "offers_income")]["kind"] == "expired"
    assert crm_system.holds(at=timezone.now()) == truth(at=timezone.now()) == set()
