"""Issue 26 end to end, in a real browser against the live server: a simulated data user
(a budgeting app) takes a client-credentials token and asks for access through the API;
the customer logs in and approves on our site; the data user reads transactions; the
customer withdraws on the dashboard; the data user's next read is refused, and its
consent's status says why."""

import datetime as dt
from decimal import Decimal

import pytest
import requests
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Permission
from ledger.models import Action
from tests.access.conftest import consent_body, register_data_user
from tests.browser.conftest import log_in
from tests.factories import CustomerFactory
from tests.offers.factories import AccountFactory, TransactionFactory

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch):
    """The test server speaks plain HTTP on 127.0.0.1; production is behind TLS."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


class DataUserClient:
    """The budgeting app, over HTTP: what its server would do."""

    def __init__(self, base_url, client_id, secret):
        self.base_url = base_url
        token = requests.post(
            f"{base_url}/api/v1/oauth/token/",
            data={"grant_type": "client_credentials", "scope": "psd2:ais"},
            auth=(client_id, secret),
            timeout=30,
        )
        assert token.status_code == 200, token.text
        self.headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

    def call(self, method, path, consent_id=None, **kwargs):
        headers = {**self.headers, **({"Consent-ID": consent_id} if consent_id else {})}
        return requests.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=30, **kwargs
        )


@pytest.fixture
def customer(transactional_db):
    customer = CustomerFactory(customer_number="600026", first_name="Sanne")
    account = AccountFactory(customer=customer, kind="checking", iban="NL91TEST0000000026")
    TransactionFactory(
        account=account,
        booked_at=timezone.now() - dt.timedelta(days=3),
        amount=Decimal("-42.10"),
        counterparty_name="Bakkerij De Korenschoof",
    )
    return customer


def test_a_data_user_asks_the_customer_approves_it_reads_the_customer_withdraws(
    page, live_server, customer
):
    secret = "Budgetkompas-secret-" + "x" * 40
    data_user = register_data_user("Budgetkompas")
    app = DataUserClient(live_server.url, data_user.application.client_id, secret)

    # The data user asks.
    asked = app.call("POST", "/api/v1/consents", json=consent_body(ibans=["NL91TEST0000000026"]))
    assert asked.status_code == 201, asked.text
    consent_id = asked.json()["consentId"]
    approval_link = asked.json()["_links"]["scaRedirect"]["href"]
    assert approval_link.startswith(live_server.url)

    # The customer logs in and approves, reading who asks, what, how long and why.
    log_in(page, customer.customer_number)
    page.goto(approval_link)
    expect(page.locator("h1")).to_contain_text("Budgetkompas")
    expect(page.locator("#access-text")).to_contain_text("NL91TEST0000000026")
    expect(page.locator("#access-text")).to_contain_text("Uw uitgaven per maand")
    page.locator("#access-approve").click()
    page.wait_for_url(f"**/access/{consent_id}/reads/")
    expect(page.locator("#access-status")).to_have_text("geldig")

    # The data user reads the account's transactions.
    (account,) = app.call("GET", "/api/v1/accounts", consent_id).json()["accounts"]
    today = timezone.localdate()
    read = app.call(
        "GET",
        f"/api/v1/accounts/{account['resourceId']}/transactions",
        consent_id,
        params={"dateFrom": (today - dt.timedelta(days=30)).isoformat()},
    )
    assert read.status_code == 200, read.text
    (booked,) = read.json()["transactions"]["booked"]
    assert booked["transactionAmount"]["amount"] == "-42.10"

    # The dashboard shows who can see the data, when it last read; one click withdraws.
    page.goto("/")
    section = page.locator("#third-parties")
    expect(section).to_contain_text("Wie kan uw gegevens zien")
    expect(section).to_contain_text("Budgetkompas")
    expect(section).not_to_contain_text("nog niet")  # it read already
    section.locator(f"#access-withdraw-{consent_id}").click()
    page.wait_for_url(f"**/access/{consent_id}/reads/")
    expect(page.locator("#access-status")).to_have_text("ingetrokken")
    expect(page.locator("#access-reads")).to_contain_text("transacties")

    # The next read is refused at once, and the data user learns why.
    refused = app.call(
        "GET",
        f"/api/v1/accounts/{account['resourceId']}/transactions",
        consent_id,
        params={"dateFrom": (today - dt.timedelta(days=30)).isoformat()},
    )
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "CONSENT_INVALID"
    status = app.call("GET", f"/api/v1/consents/{consent_id}/status").json()
    assert status == {"consentStatus": "revokedByPsu"}
    feed = app.call("GET", "/api/v1/consents/changes").json()["changes"]
    assert [change["event"] for change in feed] == ["approved", "revokedByPsu"]
    permission = Permission.objects.get(consent_id=consent_id)
    assert permission.ended_event.action == Action.ACCESS_WITHDRAWN
    page.goto("/")
    expect(page.locator("#third-parties")).to_have_count(0)


def test_the_third_party_pages_pass_axe_and_fit_a_phone(page, live_server, customer):
    from tests.access.stories import approved_and_read
    from tests.browser.test_accessibility import serious_violations

    permission = approved_and_read(customer, at=timezone.now())
    data_user = register_data_user("Kasboek Online", number="PSD2-BE-0077")
    waiting = Permission.objects.create(
        data_user=data_user,
        all_accounts=True,
        balances=True,
        transactions=True,
        valid_until=timezone.localdate() + dt.timedelta(days=30),
        frequency_per_day=2,
        reason="Uw boekhouding bijhouden",
        requested_at=timezone.now(),
    )
    page.set_viewport_size({"width": 320, "height": 700})
    log_in(page, customer.customer_number)
    for url in ("/", f"/access/{permission.consent_id}/reads/", f"/access/{waiting.consent_id}/"):
        page.goto(url)
        assert serious_violations(page) == [], url
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{url} is {width} px wide"
    # Keyboard only: the approval button is reachable with Tab and focus is visible.
    approve = page.locator("#access-approve")
    for _ in range(40):
        page.keyboard.press("Tab")
        if approve.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("Toegang geven cannot be reached with Tab")
