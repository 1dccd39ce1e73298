"""The gate as an attacker tries it: nothing outside the permission ever leaves, nothing
is read or counted when a read is refused, and every refusal is a clear problem+json."""

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import Permission, Read
from tests.access.conftest import AIS, consent_body, register_data_user
from tests.access.test_flow import accounts, approve_on_site, ask, transactions
from tests.api.conftest import bearer, issue_token


@pytest.fixture
def approved(tpp, client, sanne):
    asked = ask(tpp)
    assert approve_on_site(client, sanne, asked["consentId"]).status_code == 302
    return asked["consentId"]


@pytest.fixture
def resource(tpp, approved):
    (account,) = accounts(tpp, approved).json()["accounts"]
    return account["resourceId"]


def refused(response, status, code):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if code:
        assert response.json()["code"] == code


def test_another_customers_account_is_unknown_under_this_permission(
    tpp, client, approved, other_customer, data_user
):
    # The other customer approves the same data user for their own account.
    theirs = ask(tpp, ibans=["NL91TEST0000000009"])
    approve_on_site(client, other_customer, theirs["consentId"])
    (their_account,) = accounts(tpp, theirs["consentId"]).json()["accounts"]
    reads = Read.objects.count()
    today = timezone.localdate()
    # Their account's resource id, under Sanne's consent: nothing.
    response = transactions(tpp, approved, their_account["resourceId"], today)
    refused(response, 404, "RESOURCE_UNKNOWN")
    assert "99.99" not in response.content.decode()
    # A made-up resource id: nothing either.
    refused(transactions(tpp, approved, uuid.uuid4(), today), 404, "RESOURCE_UNKNOWN")
    assert Read.objects.count() == reads


def test_a_period_wider_than_the_permission_is_refused_whole(tpp, approved, resource):
    reads = Read.objects.count()
    long_ago = timezone.localdate() - dt.timedelta(days=365)
    response = transactions(tpp, approved, resource, long_ago)
    refused(response, 400, "PERIOD_INVALID")
    assert Read.objects.count() == reads
    # Within it, the transaction of 200 days ago is not there: 90 days back at most.
    within = transactions(tpp, approved, resource, timezone.localdate() - dt.timedelta(days=90))
    amounts = [r["transactionAmount"]["amount"] for r in within.json()["transactions"]["booked"]]
    assert amounts == ["-12.50", "-80.00", "2000.00"]


def test_a_period_backwards_or_missing_is_bad_input(tpp, approved, resource):
    today = timezone.localdate()
    refused(transactions(tpp, approved, resource, today, today - dt.timedelta(days=1)), 400, None)
    response = tpp.get(f"/api/v1/accounts/{resource}/transactions", HTTP_CONSENT_ID=approved)
    refused(response, 400, None)
    refused(tpp.get("/api/v1/accounts", HTTP_CONSENT_ID="not-a-uuid"), 400, None)


def test_another_data_users_consent_id_is_unknown_to_it(approved, resource, db):
    intruder = register_data_user("Spiekapp", number="PSD2-XX-9999")
    client = bearer(issue_token(intruder.application, scope=AIS))
    refused(client.get("/api/v1/accounts", HTTP_CONSENT_ID=approved), 403, "CONSENT_UNKNOWN")
    response = transactions(client, approved, resource, timezone.localdate())
    refused(response, 403, "CONSENT_UNKNOWN")
    assert client.get(f"/api/v1/consents/{approved}").status_code == 404
    assert client.delete(f"/api/v1/consents/{approved}").status_code == 404
    assert Permission.objects.get(consent_id=approved).status == "valid"


def test_a_stale_token_reads_nothing(approved, data_user):
    stale = bearer(issue_token(data_user.application, scope=AIS, expires_in=-10))
    assert stale.get("/api/v1/accounts", HTTP_CONSENT_ID=approved).status_code == 401


def test_the_bank_systems_token_cannot_read_and_a_data_user_cannot_follow_the_feed(
    approved, tpp, db
):
    from tests.api.conftest import FEED, register_system

    crm = bearer(issue_token(register_system(), scope=FEED))
    assert crm.get("/api/v1/accounts", HTTP_CONSENT_ID=approved).status_code == 403
    assert tpp.get("/api/v1/consent-changes").status_code == 403


def test_an_expired_permission_reads_nothing(approved, data_user, _frozen_clock):
    _frozen_clock.move_to(timezone.now() + dt.timedelta(days=91))
    tpp = bearer(issue_token(data_user.application, scope=AIS))  # a fresh token
    refused(accounts(tpp, approved), 401, "CONSENT_EXPIRED")
    assert tpp.get(f"/api/v1/consents/{approved}/status").json() == {"consentStatus": "expired"}


def test_reads_beyond_the_frequency_per_day_are_refused_until_the_next_day(
    tpp, approved, data_user, _frozen_clock
):
    # The approval allowed 4 reads a day (Europe/Amsterdam).
    for _ in range(4):
        assert accounts(tpp, approved).status_code == 200
    reads = Read.objects.count()
    response = accounts(tpp, approved)
    refused(response, 429, "ACCESS_EXCEEDED")
    assert Read.objects.count() == reads
    _frozen_clock.move_to(timezone.now() + dt.timedelta(days=1))
    tpp = bearer(issue_token(data_user.application, scope=AIS))
    assert accounts(tpp, approved).status_code == 200


def test_a_read_is_one_statement_with_the_permission_inside_and_one_log_insert(
    tpp, approved, resource
):
    today = timezone.localdate()
    with CaptureQueriesContext(connection) as queries:
        transactions(tpp, approved, resource, today - dt.timedelta(days=30))
    reads = [q["sql"] for q in queries if "offers_transaction" in q["sql"]]
    assert len(reads) == 1
    (sql,) = reads
    for check in ("valid_until", "frequency_per_day", "history_from", "status"):
        assert check in sql
    assert sum('INSERT INTO "access_read"' in q["sql"] for q in queries) == 1


@pytest.mark.parametrize(
    "change",
    [
        {"validUntil": "2030-01-01"},
        {"frequencyPerDay": 5},
        {"frequencyPerDay": 0},
        {"recurringIndicator": False},
        {"access": {}},
        {"access": {"allPsd2": "allAccounts", "balances": [{"iban": "NL91TEST0000000001"}]}},
        {"access": {"balances": [{"iban": "not an iban"}]}},
        {
            "access": {
                "balances": [{"iban": "NL91TEST0000000001"}],
                "transactions": [{"iban": "NL91TEST0000000002"}],
            }
        },
        {"purpose": ""},
    ],
)
def test_bad_requests_are_problems_and_write_nothing(tpp, change):
    body = {**consent_body(), **change}
    response = tpp.post("/api/v1/consents", body, format="json")
    refused(response, 400, None)
    assert response.json()["errors"]
    assert not Permission.objects.exists()


def test_a_redirect_uri_off_the_allow_list_is_refused(tpp):
    response = tpp.post(
        "/api/v1/consents",
        consent_body(),
        format="json",
        HTTP_TPP_REDIRECT_URI="https://evil.example/callback",
    )
    refused(response, 400, None)
    assert not Permission.objects.exists()


def test_a_request_for_someone_elses_account_cannot_be_approved(tpp, client, sanne):
    asked = ask(tpp, ibans=["NL91TEST0000000009"])
    client.force_login(sanne.user)
    html = client.get(f"/access/{asked['consentId']}/").content.decode()
    assert 'id="access-not-yours"' in html and 'id="access-approve"' not in html


def test_a_decided_request_cannot_be_decided_by_another_customer(tpp, client, approved, db):
    from tests.factories import CustomerFactory

    mallory = CustomerFactory()
    client.force_login(mallory.user)
    assert client.get(f"/access/{approved}/").status_code == 404
    assert client.get(f"/access/{approved}/reads/").status_code == 404
    assert client.post(f"/access/{approved}/withdraw/").status_code == 404
    assert Permission.objects.get(consent_id=approved).status == "valid"


def test_scopes_never_cross_between_data_users_and_the_banks_systems(approved, data_user, db):
    """Even a token that somehow carries the other kind's scope is refused: the client's
    kind decides, not the token's scope."""
    from tests.api.conftest import FEED, register_system

    crm_with_ais = bearer(issue_token(register_system("CRM-2"), scope=AIS))
    response = crm_with_ais.get("/api/v1/accounts", HTTP_CONSENT_ID=approved)
    refused(response, 403, None)
    data_user_with_feed = bearer(issue_token(data_user.application, scope=FEED))
    refused(data_user_with_feed.get("/api/v1/consent-changes"), 403, None)
    refused(data_user_with_feed.get("/api/v1/purposes/offers_balance/valid-customers"), 403, None)


def test_a_data_users_client_is_offered_only_its_own_scope(data_user):
    from api.oauth import ScopesByClientKind

    scopes = ScopesByClientKind()
    assert scopes.get_available_scopes(application=data_user.application) == [AIS]
    assert scopes.get_default_scopes(application=data_user.application) == [AIS]
