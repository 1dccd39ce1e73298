"""A customer's token never reaches another customer's data: every endpoint of the API,
with Sanne's token, aimed at Daan's data wherever a URL can name it."""

import pytest
from django.urls import URLPattern, URLResolver

from api import urls as api_urls
from consent.models import ConsentState
from ledger.models import ConsentEvent
from offers.models import Offer
from tests.factories import CustomerFactory
from tests.offers.factories import make_offer

# Every named endpoint, and how to aim it at the other customer's data. Public ones
# (the schema and its page) hold no personal data.
PUBLIC = {"api_schema", "api_docs", "api_problems", "api_problem"}


A_UUID = "3d9f4c52-6b1e-4c51-9a57-1c0f6d2b7a10"
ENDPOINTS = {
    "api_purposes": ("get", "/api/v1/me/purposes", None),
    "api_purpose": ("get", "/api/v1/me/purposes/offers_balance", None),
    "api_choice": ("post", "/api/v1/me/purposes/offers_balance/choice", {"choice": "withdraw"}),
    "api_stop_all": ("post", "/api/v1/me/stop-all", None),
    "api_lift_objection": ("post", "/api/v1/me/objection/lift", None),
    "api_history": ("get", "/api/v1/me/history", None),
    "api_receipt": ("get", "/api/v1/me/history/{event}/receipt", None),
    "api_export": ("get", "/api/v1/me/export", None),
    "api_offers": ("get", "/api/v1/me/offers", None),
    "api_data_use": ("get", "/api/v1/me/data-use", None),
    "api_answer_offer": ("post", "/api/v1/me/offers/{offer}/answer", {"answer": "interested"}),
    "api_consent_changes": ("get", "/api/v1/consent-changes", None),
    "api_valid_customers": ("get", "/api/v1/purposes/offers_balance/valid-customers", None),
    "api_purpose_list": ("get", "/api/v1/purposes", None),
    "api_may_use": ("get", "/api/v1/customers/910002/may-use/offers_balance", None),
    # Data users' endpoints (third parties): a customer's token is not a data user's.
    "api_access_consents": ("post", "/api/v1/consents", {}),
    "api_access_consent": ("get", f"/api/v1/consents/{A_UUID}", None),
    "api_access_consent_status": ("get", f"/api/v1/consents/{A_UUID}/status", None),
    "api_access_accounts": ("get", "/api/v1/accounts", None),
    "api_access_consent_changes": ("get", "/api/v1/consents/changes", None),
    "api_access_balances": ("get", f"/api/v1/accounts/{A_UUID}/balances", None),
    "api_access_transactions": ("get", f"/api/v1/accounts/{A_UUID}/transactions", None),
}


def endpoint_names(patterns=api_urls.urlpatterns):
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            continue  # the OAuth endpoints: no customer data
        if isinstance(pattern, URLPattern) and pattern.name:
            names.add(pattern.name)
    return names


@pytest.fixture
def daan(db, choose):
    """Daan: a consent, an objection history, an open offer — everything a URL can name."""
    daan = CustomerFactory(customer_number="910002", first_name="Daan")
    choose(daan, "offers_spending", days_ago=30)
    choose(daan, "offers_balance", days_ago=30)
    return daan


@pytest.fixture
def daans_data(daan):
    offer = make_offer(daan, status="approved")
    event = ConsentEvent.objects.filter(customer=daan).order_by("sequence").first()
    return event, offer


def snapshot(customer):
    return (
        list(ConsentEvent.objects.filter(customer=customer).values_list("pk", "hash")),
        list(ConsentState.objects.filter(customer=customer).values_list("purpose_id", "state")),
        list(Offer.objects.filter(customer=customer).values_list("pk", "status")),
    )


def test_the_table_names_every_endpoint():
    assert set(ENDPOINTS) | PUBLIC == endpoint_names()


@pytest.mark.parametrize("name", sorted(ENDPOINTS))
def test_sannes_token_never_reaches_daans_data(name, daan, daans_data, app_for):
    sanne = CustomerFactory(customer_number="910001", first_name="Sanne")
    daans_event, daans_offer = daans_data
    before = snapshot(daan)
    method, template, body = ENDPOINTS[name]
    url = template.format(event=daans_event.pk, offer=daans_offer.pk)

    response = getattr(app_for(sanne), method)(url, body, format="json")

    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    assert response.status_code in (200, 403, 404, 409), (url, response.status_code)
    # A problem's `instance` is the path asked for: only what Sanne's app sent itself.
    assert "910002" not in content.replace(url, "")
    assert daans_event.hash not in content, daans_event.hash  # the notice hash is public
    assert f'"id":{daans_offer.pk},' not in content
    assert snapshot(daan) == before
    if "{" in template:  # the URL names Daan's event or offer
        assert response.status_code == 404


def test_another_customers_receipt_and_offer_are_404(daan, daans_data, app_for):
    daans_event, daans_offer = daans_data
    app = app_for(CustomerFactory())
    assert app.get(f"/api/v1/me/history/{daans_event.pk}/receipt").status_code == 404
    answer = app.post(
        f"/api/v1/me/offers/{daans_offer.pk}/answer", {"answer": "dismiss"}, format="json"
    )
    assert answer.status_code == 404
    assert Offer.objects.get(pk=daans_offer.pk).status == "approved"


def test_the_feed_tokens_see_customers_but_customers_tokens_do_not_see_the_feed(
    daan, daans_data, app_for, feed_client
):
    app = app_for(CustomerFactory())
    assert app.get("/api/v1/consent-changes").status_code == 403
    assert "910002" in feed_client.get("/api/v1/consent-changes").content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/history/99999999999999999999/receipt",
        "/api/v1/me/offers/-1/answer",
        "/api/v1/customers/910002",
        "/api/v1/me/purposes/",
    ],
)
def test_any_other_path_is_a_json_problem_404(app_for, db, path):
    response = app_for(CustomerFactory()).get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
