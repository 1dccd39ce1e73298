"""What every client may read (the purposes, as published now) and the check for the bank's
systems: may this customer be used for this purpose now, and if not, why."""

import hashlib

import pytest

from api.models import FeedRead
from consent.models import PurposeVersion
from tests.factories import CustomerFactory, publish_version

from .conftest import CHECK, FEED, READ, bearer, issue_token


@pytest.fixture
def checker(crm):
    return bearer(issue_token(crm, scope=CHECK))


@pytest.fixture
def sanne(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago."""
    sanne = CustomerFactory(customer_number="820001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


def may_use(client, number, purpose):
    return client.get(f"/api/v1/customers/{number}/may-use/{purpose}")


# --- The purposes ------------------------------------------------------------------------------
def test_every_client_reads_the_purposes_with_versions_hashes_and_basis(db, app_for, crm):
    app = app_for(CustomerFactory(), scope=READ)
    system = bearer(issue_token(crm, scope=FEED))
    body = app.get("/api/v1/purposes").json()
    assert system.get("/api/v1/purposes").json() == body
    by_code = {purpose["code"]: purpose for purpose in body["purposes"]}
    assert list(by_code)[:2] == ["payments", "fraud_prevention"]
    spending = by_code["offers_spending"]
    assert spending["title_nl"] == "Aanbiedingen op basis van waar en hoe u betaalt"
    assert spending["title_en"] == "Offers based on where and how you pay"
    assert (spending["version"], spending["legal_basis"], spending["required"]) == (
        1,
        "consent",
        False,
    )
    version = PurposeVersion.objects.get(purpose__code="offers_spending", version=1)
    assert spending["notice_sha256"] == {
        "nl": hashlib.sha256(version.notice_text("nl").encode()).hexdigest(),
        "en": hashlib.sha256(version.notice_text("en").encode()).hexdigest(),
    }
    assert by_code["payments"]["required"] is True
    assert by_code["payments"]["legal_basis"] != "consent"


def test_the_purposes_show_a_new_version_once_published(db, app_for):
    publish_version("offers_income", material=True)
    app = app_for(CustomerFactory(), scope=READ)
    income = next(
        p for p in app.get("/api/v1/purposes").json()["purposes"] if p["code"] == "offers_income"
    )
    assert income["version"] == 2


def test_the_purposes_need_a_token(db):
    assert bearer(None).get("/api/v1/purposes").status_code == 401
    assert bearer("not-a-token").get("/api/v1/purposes").status_code == 401


# --- The check ---------------------------------------------------------------------------------
def test_a_system_may_use_a_customer_whose_consent_counts(sanne, checker, now):
    response = may_use(checker, "820001", "offers_spending")
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is True and body["reason"] is None
    assert (body["customer_number"], body["purpose"], body["legal_basis"]) == (
        "820001",
        "offers_spending",
        "consent",
    )
    assert body["since"] is not None


def test_no_consent_is_not_valid_and_says_none_was_given(sanne, checker):
    body = may_use(checker, "820001", "offers_income").json()
    assert (body["valid"], body["reason"]) == (False, "not_granted")


def test_a_withdrawn_consent_says_withdrawn(sanne, checker, choose):
    choose(sanne, "offers_spending", "withdrawn")
    body = may_use(checker, "820001", "offers_spending").json()
    assert (body["valid"], body["reason"]) == (False, "withdrawn")


def test_a_consent_ended_by_a_new_text_says_why(sanne, checker):
    publish_version("offers_spending", material=True)
    body = may_use(checker, "820001", "offers_spending").json()
    assert (body["valid"], body["reason"]) == (False, "material_change")


def test_after_stop_all_nothing_may_be_used(sanne, app_for, checker):
    app_for(sanne).post("/api/v1/me/stop-all")
    body = may_use(checker, "820001", "offers_spending").json()
    assert (body["valid"], body["reason"]) == (False, "withdrawn")


def test_an_expired_consent_says_expired(db, choose, checker):
    choose(CustomerFactory(customer_number="820002"), "offers_income", days_ago=800)
    body = may_use(checker, "820002", "offers_income").json()
    assert (body["valid"], body["reason"]) == (False, "expired")


def test_a_required_purpose_may_be_used_on_its_own_basis(sanne, checker):
    body = may_use(checker, "820001", "payments").json()
    assert (body["valid"], body["reason"], body["legal_basis"]) == (True, None, "contract")


def test_an_unknown_purpose_or_customer_is_a_404_problem(sanne, checker):
    for response in (
        may_use(checker, "820001", "no_such_purpose"),
        may_use(checker, "999999", "offers_spending"),
    ):
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"


def test_every_check_is_logged_with_the_system_and_purpose_but_not_the_customer(
    sanne, checker, crm
):
    may_use(checker, "820001", "offers_spending")
    may_use(checker, "999999", "offers_income")  # a probe for a customer is a read too
    may_use(checker, "820001", "no_such_purpose")  # nothing read
    reads = FeedRead.objects.order_by("id")
    assert [(r.client_name, r.endpoint, r.purpose, r.rows) for r in reads] == [
        ("CRM", "may-use", "offers_spending", 1),
        ("CRM", "may-use", "offers_income", 0),
    ]
    assert all(r.client_id == crm.client_id for r in reads)


def test_a_customers_token_cannot_check_anyone_not_even_themselves(sanne, app_for):
    response = may_use(app_for(sanne), "820001", "offers_spending")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"


def test_the_feed_scope_alone_does_not_check(sanne, feed_client):
    response = may_use(feed_client, "820001", "offers_spending")
    assert response.status_code == 403
    assert CHECK in response.json()["detail"]


def test_a_system_gets_the_check_scope_from_the_token_endpoint(db, crm):
    from .conftest import FEED_SECRET

    response = bearer(None).post(
        "/api/v1/oauth/token/",
        {
            "grant_type": "client_credentials",
            "scope": CHECK,
            "client_id": crm.client_id,
            "client_secret": FEED_SECRET,
        },
        format="multipart",
    )
    assert response.status_code == 200, response.content
    assert response.json()["scope"] == CHECK


def test_the_app_cannot_get_the_check_scope(db, bank_app):
    from api.oauth import ScopesByClientKind

    assert CHECK not in ScopesByClientKind().get_available_scopes(application=bank_app)
