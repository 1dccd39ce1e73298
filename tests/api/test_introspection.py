"""Token introspection (RFC 7662) is off: no client of the bank, however it
authenticates, learns from a token whose it is. The API answers for its own tokens; no
other server of the bank checks them, so nobody needs to ask."""

from base64 import b64encode

import pytest

from tests.factories import CustomerFactory

from .conftest import FEED_SECRET, bearer, issue_token

INTROSPECT = "/api/v1/oauth/introspect/"


@pytest.fixture
def annas_app_token(bank_app):
    anna = CustomerFactory(customer_number="920001")
    return anna, issue_token(bank_app, user=anna.user, scope="consent:read")


def basic(client_id, secret):
    return "Basic " + b64encode(f"{client_id}:{secret}".encode()).decode()


def test_an_ordinary_client_cannot_introspect_a_customers_token(client, crm, annas_app_token):
    """The CRM system (a confidential client, client credentials) asks whose token the
    app holds: it is refused and learns nothing, not the customer number either."""
    anna, token = annas_app_token
    for method in (client.post, client.get):
        response = method(
            INTROSPECT,
            {"token": token},
            HTTP_AUTHORIZATION=basic(crm.client_id, FEED_SECRET),
        )
        body = response.content.decode()
        assert response.status_code == 404, body
        assert anna.customer_number not in body
        assert '"active"' not in body and "username" not in body


def test_a_bearer_token_does_not_open_introspection_either(crm, annas_app_token):
    anna, token = annas_app_token
    feed_token = issue_token(crm, scope="consent:feed")
    response = bearer(feed_token).post(INTROSPECT, {"token": token}, format="json")
    assert response.status_code == 404
    assert anna.customer_number not in response.content.decode()
