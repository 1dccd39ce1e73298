"""The API's clients and tokens: the bank's app (authorization code with PKCE, public) and
the bank's systems (client credentials), registered as a privacy officer would."""

import datetime as dt
import secrets

import pytest
from django.core.cache import cache
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value
from rest_framework.test import APIClient

APP_REDIRECT = "nl.voorbeeldbank.app:/oauth/callback"
FEED_SECRET = "crm-secret-" + "x" * 40
READ, CHOOSE, FEED = "consent:read", "consent:choose", "consent:feed"
CHECK = "consent:check"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    """Rate limits count in the cache; every test starts with none used."""
    cache.clear()
    yield
    cache.clear()


def register_app(name="Voorbeeldbank app"):
    return Application.objects.create(
        name=name,
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=APP_REDIRECT,
        algorithm="",
    )


def register_system(name="CRM", secret=FEED_SECRET):
    system = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        algorithm="",
    )
    system.save()
    return system


@pytest.fixture
def bank_app(db):
    return register_app()


@pytest.fixture
def crm(db):
    return register_system()


def issue_token(application, *, user=None, scope, expires_in=3600) -> str:
    """A token as the token endpoint would have issued it (stored hashed)."""
    raw = secrets.token_urlsafe(30)
    token = AccessToken(
        application=application,
        user=user,
        scope=scope,
        expires=timezone.now() + dt.timedelta(seconds=expires_in),
    )
    set_token_value(token, raw)
    token.save()
    return raw


def bearer(raw_token: str | None) -> APIClient:
    client = APIClient(raise_request_exception=False)
    if raw_token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_token}")
    return client


@pytest.fixture
def app_for(bank_app):
    """An API client holding the token `customer` gave the bank's app."""

    def app_for(customer, scope=f"{READ} {CHOOSE}"):
        return bearer(issue_token(bank_app, user=customer.user, scope=scope))

    return app_for


@pytest.fixture
def feed_client(crm):
    return bearer(issue_token(crm, scope=FEED))
