import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains

from consent import export, signals
from consent.choices import notice_on_screen, record_choice
from ledger.models import Action, Channel, ConsentEvent
from tests.pages import downloaded_json
from tests.proof import checkpoint
from tests.receivers import receiving


def download(client):
    response = client.get("/export.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert 'attachment; filename="privacykeuzes-' in response["Content-Disposition"]
    return downloaded_json(response)


def test_the_export_follows_the_documented_format(customer_client, customer, choose_now):
    choose_now(customer, "offers_spending", Action.WITHDRAWN)
    data = download(customer_client)
    assert set(data) == {
        "customer_number",
        "exported_at",
        "profile",
        "objection",
        "choices",
        "history",
        "receipts",
        "offers",
        "accounts",
        "holdings",
        "transactions",
        "data_use",
        "linked_apps",
        "advance_notices",
        "third_party_access",
    }
    assert data["objection"] == {"active": False}
    assert data["customer_number"] == customer.customer_number
    choices = {c["purpose"]: c for c in data["choices"]}
    assert set(choices) == {
        "offers_spending",
        "offers_income",
        "offers_balance",
        "contact_email",
        "contact_phone",
        "contact_post",
    }
    assert choices["offers_spending"]["state"] == "withdrawn"
    assert choices["offers_spending"]["valid"] is False
    assert choices["offers_spending"]["version"] == 1
    assert choices["offers_income"] == {
        "purpose": "offers_income",
        "state": "not_set",
        "valid": False,
        "version": None,
        "changed_at": None,
    }
    events = ConsentEvent.objects.filter(customer=customer).order_by("sequence")
    assert data["history"] == [
        {
            "id": e.pk,
            "purpose": "offers_spending",
            "action": e.action,
            "at": e.occurred_at.isoformat(),
            "channel": "web",
            "version": 1,
            "notice_sha256": e.notice_sha256,
            "staff_action": None,
        }
        for e in events
    ]
    assert data["offers"] == []


def test_a_valid_choice_is_exported_as_valid(customer_client):
    choices = {c["purpose"]: c for c in download(customer_client)["choices"]}
    assert choices["offers_spending"]["state"] == "granted"
    assert choices["offers_spending"]["valid"] is True


def test_the_export_holds_only_the_logged_in_customers_data(
    customer_client, customer_who_consented
):
    data = download(customer_client)
    assert data["customer_number"] != customer_who_consented.customer_number
    assert len(data["history"]) == 1


def test_other_apps_fill_their_sections_without_consent_importing_them(customer_client, customer):
    seen = []

    def loyalty_section(customer, **kwargs):
        seen.append(customer)
        return [("loyalty", iter([{"points": 17}]))]

    with receiving(signals.export_sections, loyalty_section):
        data = download(customer_client)
    assert seen == [customer]
    assert data["loyalty"] == [{"points": 17}]


def test_an_app_cannot_replace_consents_own_sections(customer):
    with (
        receiving(signals.export_sections, lambda **kwargs: [("history", [])]),
        pytest.raises(ValueError, match="history"),
    ):
        export.customer_export(customer)


@pytest.mark.parametrize("extra", [0, 20])
def test_the_export_runs_a_constant_number_of_queries(
    customer_client, customer, choose_now, django_assert_num_queries, extra
):
    for n in range(extra):  # on, off, on, …: a choice made again would write nothing
        choose_now(customer, "offers_income", Action.WITHDRAWN if n % 2 else Action.GRANTED)
    checkpoint()  # every receipt carries its inclusion proof
    # session, user with customer, the cards (current versions and states), the staff's
    # actions for the customer, the events (read once, for the history and the receipts),
    # the receipts' proofs (the leaves with the newest checkpoint, the tree's nodes), one
    # each for linked apps, advance notices and third parties' access, one for offers and
    # data use together, and one for accounts, holdings and the first chunk of
    # transactions together.
    with django_assert_num_queries(12):
        data = download(customer_client)
    assert len(data["history"]) == 1 + extra


def test_each_receipt_is_the_one_its_own_download_gives(customer_client, customer, choose_now):
    """The export makes what comes from an event's text once per text and language; each
    receipt is still exactly the one made alone (`/history/<id>/receipt.json`)."""
    for n in range(3):  # several events on each of two texts
        choose_now(customer, "offers_income", Action.WITHDRAWN if n % 2 else Action.GRANTED)
        choose_now(customer, "offers_spending", Action.GRANTED if n % 2 else Action.WITHDRAWN)
    checkpoint()
    # The same text read in English, after the checkpoint (its proof is pending).
    at = timezone.now()
    record_choice(
        customer=customer,
        purpose_code="offers_income",
        action=Action.WITHDRAWN,
        channel=Channel.WEB,
        actor=customer.user,
        at=at,
        language="en",
        **notice_on_screen(purpose_code="offers_income", at=at, language="en"),
    )
    customer_client.post("/choices/stop-all/")  # an objection: a statement, no purpose's text
    receipts = download(customer_client)["receipts"]
    events = ConsentEvent.objects.filter(customer=customer).order_by("sequence")
    assert [r["consentReceiptID"] for r in receipts] == [str(e.receipt_id) for e in events]
    assert {r["action"] for r in receipts} >= {"granted", "withdrawn", "objected"}
    assert {r["language"] for r in receipts} == {"nl", "en"}
    assert {r["proof"]["status"] for r in receipts} == {"included", "pending"}
    for receipt, event in zip(receipts, events, strict=True):
        alone = downloaded_json(customer_client.get(f"/history/{event.pk}/receipt.json"))
        assert receipt == alone
        assert list(receipt) == list(alone)


def test_the_export_page_links_the_download(customer_client):
    response = customer_client.get("/export/")
    assertContains(response, 'href="/export.json"')


def test_the_dashboard_links_the_download(customer_client):
    assertContains(customer_client.get("/"), 'href="/export.json" download')


def test_anonymous_visitors_get_no_export(client, db):
    assert client.get("/export.json").status_code == 302
