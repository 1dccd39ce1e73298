"""'Stop all personal offers' is an objection to direct marketing (GDPR Art. 21(2)),
recorded as one, standing until the customer lifts it."""

from pytest_django.asserts import assertContains, assertNotContains

from consent.models import ConsentState
from ledger.models import ConsentEvent
from tests.pages import choice_form, downloaded_json, form_fields

WAY_OUT = "Hef dan eerst uw bezwaar op"


def objected(customer_client):
    return customer_client.post("/choices/stop-all/", follow=True)


def test_stop_all_records_one_objected_event_with_its_own_receipt(customer_client, customer):
    objected(customer_client)
    event = ConsentEvent.objects.get(customer=customer, action="objected")
    assert event.purpose is None and event.purpose_version is None
    receipt = customer_client.get(f"/history/{event.pk}/receipt.json").json()
    assert receipt["action"] == "objected"
    assert receipt["legalBasis"] == "objection_art_21_2"
    assert "bezwaar maakt tegen direct marketing" in receipt["notice"]
    assert receipt["noticeSha256"] == event.notice_sha256


def test_stop_all_twice_records_the_objection_once(customer_client, customer):
    objected(customer_client)
    objected(customer_client)
    assert ConsentEvent.objects.filter(customer=customer, action="objected").count() == 1


def test_while_objected_a_grant_is_refused_and_names_the_way_out(customer_client, customer):
    form = choice_form(customer_client, "offers_income", "grant")  # a tab opened before
    objected(customer_client)
    before = ConsentEvent.objects.filter(customer=customer).count()
    response = customer_client.post("/choices/offers_income/", form)
    assertContains(response, WAY_OUT, status_code=409)
    assert ConsentEvent.objects.filter(customer=customer).count() == before


def test_the_dashboard_shows_the_objection_with_its_date_and_a_lift_button(customer_client):
    response = objected(customer_client)
    assertContains(response, "U heeft alle persoonlijke aanbiedingen gestopt")
    assertContains(response, "Sinds 2 november 2026")
    assertContains(response, 'action="/choices/lift-objection/"')
    assertNotContains(response, 'id="stop-all"')
    # Offers purposes show why they are off, and no switch to grant them.
    assertNotContains(response, 'value="grant"')
    # The three offers purposes and the three contact channels: all direct marketing.
    assertContains(response, "omdat u alle persoonlijke aanbiedingen heeft gestopt", count=6)


def test_lifting_the_objection_is_recorded_and_switches_nothing_on(customer_client, customer):
    page = objected(customer_client)
    form_fields(page.content.decode(), "/choices/lift-objection/")  # the button is there
    response = customer_client.post("/choices/lift-objection/", follow=True)
    assertContains(response, "Er staat nog niets aan")
    lifted = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert lifted.action == "objection_lifted" and lifted.purpose is None
    states = ConsentState.objects.filter(customer=customer, purpose__isnull=False)
    assert {s.state for s in states} == {"withdrawn"}
    # And the customer can choose again.
    form = choice_form(customer_client, "offers_income", "grant")
    assert customer_client.post("/choices/offers_income/", form).status_code == 302


def test_the_export_has_the_objection_and_its_events(customer_client, customer):
    assert downloaded_json(customer_client.get("/export.json"))["objection"] == {"active": False}
    objected(customer_client)
    export = downloaded_json(customer_client.get("/export.json"))
    event = ConsentEvent.objects.get(customer=customer, action="objected")
    assert export["objection"] == {
        "active": True,
        "since": event.occurred_at.isoformat(),
        "event_id": event.pk,
    }
    assert [h["action"] for h in export["history"]][-2:] == ["withdrawn", "objected"]
    customer_client.post("/choices/lift-objection/")
    export = downloaded_json(customer_client.get("/export.json"))
    assert export["objection"] == {"active": False}
    assert export["history"][-1]["action"] == "objection_lifted"
    assert export["history"][-1]["purpose"] is None


def test_the_history_lists_the_objection(customer_client):
    objected(customer_client)
    assertContains(customer_client.get("/history/"), "bezwaar gemaakt")
