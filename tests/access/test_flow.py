"""A data user asks, the customer approves on our site (bound to the text, in the ledger),
the data user reads through the gate, and access ends: by the customer, the data user,
the contact centre or a suspension. Real HTTP through the test client, real PostgreSQL."""

import datetime as dt
import hashlib
import re

import pytest
from django.utils import timezone

from access import actions
from access.models import Permission, PermissionStatus, Read
from consent.audit import state_mismatches, unknown_notices
from consent.models import StaffAction
from ledger.models import Action, Channel, ConsentEvent
from tests.access.conftest import consent_body
from tests.factories import CustomerFactory, UserFactory


def ask(tpp, **body) -> dict:
    response = tpp.post("/api/v1/consents", consent_body(**body), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def approve_on_site(client, customer, consent_id):
    client.force_login(customer.user)
    page = client.get(f"/access/{consent_id}/")
    assert page.status_code == 200
    html = page.content.decode()
    version = re.search(r'name="version" value="(\d+)"', html).group(1)
    sha = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', html).group(1)
    return client.post(
        f"/access/{consent_id}/", {"choice": "approve", "version": version, "text_sha256": sha}
    )


@pytest.fixture
def approved(tpp, client, sanne):
    asked = ask(tpp)
    response = approve_on_site(client, sanne, asked["consentId"])
    assert response.status_code == 302
    return asked["consentId"]


def accounts(tpp, consent_id):
    return tpp.get("/api/v1/accounts", HTTP_CONSENT_ID=consent_id)


def transactions(tpp, consent_id, resource_id, date_from, date_to=None):
    query = {"dateFrom": date_from.isoformat()}
    if date_to:
        query["dateTo"] = date_to.isoformat()
    return tpp.get(
        f"/api/v1/accounts/{resource_id}/transactions", query, HTTP_CONSENT_ID=consent_id
    )


def test_a_request_is_received_with_the_link_where_the_customer_approves(tpp, data_user):
    asked = ask(tpp)
    assert asked["consentStatus"] == "received"
    assert asked["_links"]["scaRedirect"]["href"].endswith(f"/access/{asked['consentId']}/")
    status = tpp.get(f"/api/v1/consents/{asked['consentId']}/status").json()
    assert status == {"consentStatus": "received"}
    assert not ConsentEvent.objects.exists()


def test_the_approval_page_says_who_asks_what_for_how_long_and_why(tpp, client, sanne):
    asked = ask(tpp)
    client.force_login(sanne.user)
    html = client.get(f"/access/{asked['consentId']}/").content.decode()
    for words in ("Budgetkompas", "PSD2-NL-0042", "NL91TEST0000000001", "4 keer per dag"):
        assert words in html
    assert "Uw uitgaven per maand in een overzicht" in html
    assert 'id="access-approve"' in html and 'id="access-refuse"' in html
    # The savings account is not a payment account; the student account was not asked.
    assert "NL91TEST0000000003" not in html and "NL91TEST0000000002" not in html


def test_approval_is_a_ledger_event_bound_to_the_exact_text_shown(approved, sanne):
    permission = Permission.objects.get(consent_id=approved)
    assert permission.status == PermissionStatus.VALID
    assert permission.customer == sanne
    event = permission.granted_event
    assert event.action == Action.ACCESS_GRANTED
    assert event.channel == Channel.WEB and event.actor == sanne.user
    assert event.notice_sha256 == hashlib.sha256(permission.text.encode()).hexdigest()
    assert "Budgetkompas" in permission.text
    assert [pa.account.iban for pa in permission.accounts.all()] == ["NL91TEST0000000001"]
    # The ledger's own checks stay whole: no state row for it, no unknown notice.
    assert state_mismatches() == [] and unknown_notices() == {}


def test_a_text_that_changed_since_the_page_was_shown_writes_nothing(tpp, client, sanne):
    asked = ask(tpp)
    client.force_login(sanne.user)
    response = client.post(
        f"/access/{asked['consentId']}/",
        {"choice": "approve", "version": "1", "text_sha256": "0" * 64},
    )
    assert response.status_code == 409
    assert Permission.objects.get(consent_id=asked["consentId"]).status == "received"
    assert not ConsentEvent.objects.exists()


def test_an_approval_with_a_forged_or_missing_version_writes_nothing(tpp, client, sanne):
    asked = ask(tpp)
    client.force_login(sanne.user)
    html = client.get(f"/access/{asked['consentId']}/").content.decode()
    sha = re.search(r'name="text_sha256" value="([0-9a-f]{64})"', html).group(1)
    for forged in (
        {"choice": "approve", "version": "one", "text_sha256": sha},
        {"choice": "approve", "text_sha256": sha},
    ):
        response = client.post(f"/access/{asked['consentId']}/", forged)
        assert response.status_code == 409, forged
    assert Permission.objects.get(consent_id=asked["consentId"]).status == "received"
    assert not ConsentEvent.objects.exists()


def test_nobody_under_16_can_give_access(tpp, client, db):
    young = CustomerFactory(birth_date=timezone.localdate() - dt.timedelta(days=15 * 365))
    from tests.offers.factories import AccountFactory

    AccountFactory(customer=young, iban="NL91TEST0000000001")
    asked = ask(tpp)
    client.force_login(young.user)
    html = client.get(f"/access/{asked['consentId']}/").content.decode()
    assert "16e verjaardag" in html
    assert 'id="access-approve"' not in html
    response = client.post(
        f"/access/{asked['consentId']}/", {"choice": "approve", "version": "1", "text_sha256": "x"}
    )
    assert response.status_code == 409
    assert not ConsentEvent.objects.exists()


def test_refusing_gives_nothing_and_writes_no_event(tpp, client, sanne):
    asked = ask(tpp)
    client.force_login(sanne.user)
    response = client.post(f"/access/{asked['consentId']}/", {"choice": "refuse"})
    assert response.status_code == 302
    assert tpp.get(f"/api/v1/consents/{asked['consentId']}/status").json() == {
        "consentStatus": "rejected"
    }
    assert accounts(tpp, asked["consentId"]).status_code == 401
    assert not ConsentEvent.objects.exists()


def test_the_data_user_reads_the_permitted_account_and_every_read_is_logged(tpp, approved):
    listed = accounts(tpp, approved)
    assert listed.status_code == 200, listed.content
    (account,) = listed.json()["accounts"]
    assert account["iban"] == "NL91TEST0000000001"
    today = timezone.localdate()
    response = transactions(tpp, approved, account["resourceId"], today - dt.timedelta(days=30))
    assert response.status_code == 200, response.content
    booked = response.json()["transactions"]["booked"]
    assert [row["transactionAmount"]["amount"] for row in booked] == ["-12.50", "-80.00"]
    balance = tpp.get(
        f"/api/v1/accounts/{account['resourceId']}/balances", HTTP_CONSENT_ID=approved
    )
    assert balance.json()["balances"][0]["balanceAmount"]["amount"] == "1500.00"
    reads = list(Read.objects.order_by("read_at", "pk").values_list("kind", "rows"))
    assert reads == [("accounts", 1), ("transactions", 2), ("balances", 1)]


def test_the_customer_withdraws_in_one_click_and_the_next_read_is_refused(tpp, client, approved):
    (account,) = accounts(tpp, approved).json()["accounts"]
    response = client.post(f"/access/{approved}/withdraw/")
    assert response.status_code == 302
    refused = transactions(tpp, approved, account["resourceId"], timezone.localdate())
    assert refused.status_code == 401
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "CONSENT_INVALID"
    assert tpp.get(f"/api/v1/consents/{approved}/status").json() == {
        "consentStatus": "revokedByPsu"
    }
    permission = Permission.objects.get(consent_id=approved)
    assert permission.ended_event.action == Action.ACCESS_WITHDRAWN
    assert permission.ended_event.notice_sha256 == permission.text_sha256
    assert state_mismatches() == [] and unknown_notices() == {}
    # The data user's feed says so, after the approval.
    feed = tpp.get("/api/v1/consents/changes").json()
    assert [(c["consentId"], c["event"]) for c in feed["changes"]] == [
        (approved, "approved"),
        (approved, "revokedByPsu"),
    ]
    assert tpp.get("/api/v1/consents/changes", {"after": feed["next"]}).json()["changes"] == []


def test_the_data_user_ends_its_own_permission(tpp, approved):
    assert tpp.delete(f"/api/v1/consents/{approved}").status_code == 204
    assert tpp.get(f"/api/v1/consents/{approved}/status").json() == {
        "consentStatus": "terminatedByTpp"
    }
    assert accounts(tpp, approved).status_code == 401
    assert tpp.delete(f"/api/v1/consents/{approved}").status_code == 409


def test_the_contact_centre_withdraws_for_a_customer_on_the_phone(approved, tpp, db):
    staff = UserFactory(username="kcc-1", is_staff=True)
    permission = Permission.objects.get(consent_id=approved)
    actions.withdraw_for_customer(
        permission=permission,
        staff=staff,
        channel=Channel.PHONE,
        identity_checked=True,
        note="Klant belde: wil Budgetkompas niet meer",
        at=timezone.now(),
    )
    permission.refresh_from_db()
    assert permission.status == PermissionStatus.REVOKED_BY_PSU
    assert permission.ended_event.actor == staff
    assert permission.ended_event.channel == Channel.PHONE
    assert StaffAction.objects.get(event=permission.ended_event).identity_checked
    assert accounts(tpp, approved).status_code == 401


def test_a_suspended_data_user_reads_nothing_and_the_customer_sees_why(
    tpp, client, approved, data_user
):
    staff = UserFactory(username="privacy-1", is_staff=True)
    actions.suspend_data_user(
        data_user=data_user,
        reason="Vergunning ingetrokken door DNB",
        actor=staff,
        at=timezone.now(),
    )
    account_read_count = Read.objects.count()
    assert accounts(tpp, approved).status_code == 401
    assert Read.objects.count() == account_read_count
    html = client.get("/").content.decode()
    assert "Wie kan uw gegevens zien" in html
    assert "Vergunning ingetrokken door DNB" in html


def test_the_dashboard_lists_each_data_user_with_a_withdraw_button(client, approved):
    html = client.get("/").content.decode()
    assert "Wie kan uw gegevens zien" in html
    assert f'action="/access/{approved}/withdraw/"' in html
    assert "Budgetkompas" in html


def test_a_customer_without_permissions_gets_no_section(client, sanne):
    client.force_login(sanne.user)
    assert "Wie kan uw gegevens zien" not in client.get("/").content.decode()


def test_the_page_per_data_user_lists_every_read(tpp, client, approved):
    accounts(tpp, approved)
    html = client.get(f"/access/{approved}/reads/").content.decode()
    assert 'id="access-reads"' in html
    assert "rekeninggegevens" in html
    assert 'id="access-withdraw"' in html


def test_the_export_holds_the_permission_its_text_and_its_reads(tpp, client, approved, sanne):
    accounts(tpp, approved)
    from consent.export import customer_export

    (item,) = list(customer_export(sanne)["third_party_access"])
    assert item["consent_id"] == approved
    assert item["status"] == "valid"
    assert item["text_sha256"] == hashlib.sha256(item["text"].encode()).hexdigest()
    assert [read["what"] for read in item["reads"]] == ["accounts"]


@pytest.mark.parametrize("data_users", [1, 3])
def test_the_section_costs_one_query_however_many_data_users(
    tpp, client, sanne, data_users, django_assert_num_queries
):
    from tests.access.conftest import register_data_user
    from tests.api.conftest import bearer, issue_token

    for n in range(data_users):
        data_user = register_data_user(f"Budgetapp {n}", number=f"PSD2-NL-{n:04d}")
        app = bearer(issue_token(data_user.application, scope="psd2:ais"))
        asked = ask(app)
        approve_on_site(client, sanne, asked["consentId"])
        accounts(app, asked["consentId"])
    # session, user with customer, the cards, and the section (permissions, data users,
    # their accounts and last read, in one statement).
    with django_assert_num_queries(4):
        html = client.get("/").content.decode()
    assert html.count('class="app-card" id="access-') == data_users


def test_the_history_and_the_receipt_show_the_access_given_and_ended(tpp, client, approved):
    permission = Permission.objects.get(consent_id=approved)
    client.post(f"/access/{approved}/withdraw/")
    permission.refresh_from_db()
    history = client.get("/history/").content.decode()
    assert "Toegang van een andere partij tot uw betaalrekeningen" in history
    assert "toegang gegeven" in history and "toegang beëindigd" in history
    page = client.get(f"/history/{permission.granted_event_id}/receipt/")
    assert page.status_code == 200
    assert "U gaf een andere partij toegang" in page.content.decode()
    receipt = client.get(f"/history/{permission.granted_event_id}/receipt.json").json()
    assert receipt["noticeSha256"] == permission.text_sha256
    assert receipt["services"][0]["purposes"][0]["thirdPartyDisclosure"] is True
    assert "None" not in page.content.decode()


def test_the_demo_has_a_budgeting_app_whose_request_waits_for_100001(db, client, capsys):
    from django.core.management import call_command

    call_command("load_demo")
    call_command("load_demo_access")
    out = capsys.readouterr().out
    permission = Permission.objects.get()
    assert f"/access/{permission.consent_id}/" in out
    client.post("/accounts/login/", {"username": "100001", "password": "demo-privacy-2026"})
    html = client.get(f"/access/{permission.consent_id}/").content.decode()
    assert "Budgetkompas" in html and 'id="access-approve"' in html
    call_command("load_demo_access", "--if-empty")
    assert Permission.objects.count() == 1


def test_after_deciding_the_customer_finds_the_way_back_to_the_data_user(tpp, client, sanne):
    back = "nl.voorbeeldbank.app:/oauth/callback"
    response = tpp.post(
        "/api/v1/consents", consent_body(), format="json", HTTP_TPP_REDIRECT_URI=back
    )
    assert response.status_code == 201, response.content
    consent_id = response.json()["consentId"]
    client.force_login(sanne.user)
    refused = client.post(f"/access/{consent_id}/", {"choice": "refuse"}, follow=True)
    html = refused.content.decode()
    assert "U weigerde dit verzoek" in html
    assert 'id="access-back-to-data-user"' in html and back in html
