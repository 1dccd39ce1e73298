"""The customer's API for the bank's app: what the dashboard gives the
browser, through the same domain functions, recorded with channel `app`."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from consent.models import ConsentState
from ledger.models import ConsentEvent
from offers import engine
from offers.models import Offer
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant
from tests.offers.factories import AccountFactory, TransactionFactory, hold, make_offer

from .conftest import CHOOSE, READ

STALE_NL = "De tekst is veranderd; lees hem en kies opnieuw."
STALE_EN = "The text has changed; please read it and choose again."


@pytest.fixture
def sanne(db, choose):
    """Sanne switched on offers based on where she pays, ten days ago."""
    sanne = CustomerFactory(customer_number="800001", first_name="Sanne")
    choose(sanne, "offers_spending", days_ago=10)
    return sanne


@pytest.fixture
def app(sanne, app_for):
    return app_for(sanne)


def card(app, code, **headers):
    return app.get(f"/api/v1/me/purposes/{code}", headers=headers).json()


def grant(app, code, shown, **headers):
    body = {"choice": "grant", "version": shown["version"], "notice_sha256": shown["notice_sha256"]}
    return app.post(f"/api/v1/me/purposes/{code}/choice", body, format="json", headers=headers)


def events_of(customer):
    return ConsentEvent.objects.filter(customer=customer).count()


# --- Reading -----------------------------------------------------------------------------------
def test_the_cards_carry_texts_versions_and_hashes_of_what_the_customer_reads(app, sanne):
    body = app.get("/api/v1/me/purposes").json()
    assert body["language"] == "nl"
    by_code = {purpose["code"]: purpose for purpose in body["purposes"]}
    assert list(by_code) == [
        "payments",
        "fraud_prevention",
        "offers_spending",
        "offers_income",
        "offers_balance",
        # The contact channels (consent 0013): purposes like the others.
        "contact_email",
        "contact_phone",
        "contact_post",
    ]
    spending = by_code["offers_spending"]
    assert spending["title"] == "Aanbiedingen op basis van waar en hoe u betaalt"
    assert spending["version"] == 1
    assert len(spending["notice_sha256"]) == 64
    import hashlib

    assert hashlib.sha256(spending["notice_text"].encode()).hexdigest() == spending["notice_sha256"]
    assert spending["state"]["choice"] == "granted" and spending["valid"] is True
    assert spending["valid_until"] == "2028-10-21"
    assert by_code["payments"]["required"] is True and by_code["payments"]["state"] is None
    assert body["objection"] is None
    assert len(body["stop_all"]["sha256"]) == 64


def test_the_cards_speak_the_language_the_app_asks_for(app):
    body = app.get("/api/v1/me/purposes", headers={"Accept-Language": "en"}).json()
    assert body["language"] == "en"
    spending = next(p for p in body["purposes"] if p["code"] == "offers_spending")
    assert spending["title"] == "Offers based on where and how you pay"
    assert spending["notice_text"].startswith("Offers based on where and how you pay")


def test_without_a_language_the_cards_speak_the_customers_own(db, app_for):
    english = CustomerFactory(language="en")
    body = app_for(english).get("/api/v1/me/purposes").json()
    assert body["language"] == "en"


def test_a_card_says_why_a_granted_consent_no_longer_counts(app, sanne):
    publish_version("offers_spending", material=True)
    spending = card(app, "offers_spending")
    assert spending["state"]["choice"] == "granted"
    assert spending["valid"] is False
    assert spending["invalid_because"] == "material_change"
    assert spending["needs_choice"] is True and spending["version"] == 2


def test_an_expired_consent_is_not_valid_and_says_so(db, choose, app_for):
    old = CustomerFactory()
    choose(old, "offers_income", days_ago=800)
    income = card(app_for(old), "offers_income")
    assert (income["valid"], income["invalid_because"]) == (False, "expired")


def test_an_unknown_purpose_is_404(app):
    assert app.get("/api/v1/me/purposes/nonsense").status_code == 404


def test_history_lists_every_event_newest_first_with_its_receipt(app, sanne, choose):
    choose(sanne, "offers_spending", "withdrawn", days_ago=1)
    events = app.get("/api/v1/me/history").json()["events"]
    assert [e["action"] for e in events] == ["withdrawn", "granted"]
    receipt = app.get(f"/api/v1/me/history/{events[1]['id']}/receipt").json()
    assert receipt["action"] == "granted"
    assert receipt["noticeSha256"] == events[1]["notice_sha256"]
    assert receipt["piiPrincipalId"] == "800001"
    assert receipt["policyUrl"].endswith("/purposes/offers_spending/v1/")


def test_the_export_is_the_same_document_as_on_the_website(app, sanne, client):
    client.force_login(sanne.user)
    web = json.loads(b"".join(client.get("/export.json").streaming_content))
    response = app.get("/api/v1/me/export")
    assert response.streaming  # never all in memory
    api = json.loads(b"".join(response.streaming_content))
    for document in (web, api):
        document.pop("exported_at")
    assert api == web
    assert api["customer_number"] == "800001" and api["receipts"]


def test_offers_are_listed_and_answered(db, choose, app_for):
    traveller = CustomerFactory()
    choose(traveller, "offers_spending", days_ago=30)
    offer = make_offer(traveller, status="approved")
    app = app_for(traveller)
    body = app.get("/api/v1/me/offers").json()
    (listed,) = body["offers"]
    assert body["answered"] == []
    assert listed["id"] == offer.pk and listed["product"] == offer.product.code
    assert listed["relied_on"][0]["code"] == "offers_spending"
    url = f"/api/v1/me/offers/{offer.pk}/answer"
    answered = app.post(url, {"answer": "interested"}, format="json")
    assert answered.status_code == 200 and answered.json()["status"] == "accepted"
    again = app.post(url, {"answer": "dismiss"}, format="json")
    assert again.status_code == 409
    assert Offer.objects.get(pk=offer.pk).status == "accepted"
    body = app.get("/api/v1/me/offers").json()
    assert body["offers"] == [] and body["answered"][0]["status"] == "accepted"


def test_the_data_use_log_says_when_the_engine_read_what_and_what_came_of_it(db, choose, app_for):
    traveller = CustomerFactory()
    choose(traveller, "offers_spending", days_ago=30)
    offer = make_offer(traveller, status="approved")
    app = app_for(traveller)
    (use,) = app.get("/api/v1/me/data-use", headers={"Accept-Language": "en"}).json()["uses"]
    assert use["purpose"] == "offers_spending"
    assert use["offered"] == [offer.product.name("en")]
    assert use["data_read"]
    other = app_for(CustomerFactory()).get("/api/v1/me/data-use").json()
    assert other == {"uses": []}


def test_the_app_is_told_a_second_read_kept_the_open_offer_not_nothing(db, choose, app_for):
    """The same coherent outcome as the page: a read that found the offer still open says
    it stayed, and says so as a code and in words."""
    traveller = CustomerFactory()
    choose(traveller, "offers_spending", days_ago=30)
    hold(traveller, "travel_insurance_europe")
    account = AccountFactory(customer=traveller)
    TransactionFactory(
        account=account, booked_at=timezone.now() - dt.timedelta(days=3), country="US"
    )
    as_of = timezone.localdate()
    engine.generate_offers(as_of=as_of, now=timezone.now())
    engine.generate_offers(as_of=as_of + dt.timedelta(days=1), now=timezone.now())
    app = app_for(traveller)
    later, first = app.get("/api/v1/me/data-use", headers={"Accept-Language": "en"}).json()["uses"]
    product = Offer.objects.get(customer=traveller).product.name("en")
    assert (first["outcome"], first["offered"], first["kept"]) == ("offered", [product], [])
    assert (later["outcome"], later["offered"], later["kept"]) == ("kept", [], [product])
    assert "nothing" not in later["outcome_text"].lower() and product in later["outcome_text"]


# --- Choosing ----------------------------------------------------------------------------------
def test_a_grant_through_the_app_is_recorded_with_channel_app_and_the_text_shown(db, app_for):
    daan = CustomerFactory()
    app = app_for(daan)
    shown = card(app, "offers_income", **{"Accept-Language": "en"})
    response = grant(app, "offers_income", shown, **{"Accept-Language": "en"})
    assert response.status_code == 200
    (event,) = ConsentEvent.objects.filter(customer=daan)
    assert (event.channel, event.actor, event.action) == ("app", daan.user, "granted")
    assert event.notice_sha256 == shown["notice_sha256"] and event.notice_language == "en"
    body = response.json()
    assert body["events"][0]["id"] == event.pk
    assert body["card"]["valid"] is True


def test_a_grant_on_a_text_replaced_meanwhile_is_409_with_the_new_card(app, sanne):
    shown = card(app, "offers_income")
    publish_version("offers_income", material=True, title_nl="Nieuwe titel over inkomen")
    before = events_of(sanne)
    response = grant(app, "offers_income", shown)
    assert response.status_code == 409
    body = response.json()
    assert (body["code"], body["detail"]) == ("stale_notice", STALE_NL)
    assert body["card"]["version"] == 2 and body["card"]["title"] == "Nieuwe titel over inkomen"
    assert events_of(sanne) == before


def test_the_refusal_speaks_the_apps_language(app, sanne):
    shown = card(app, "offers_income")
    publish_version("offers_income", material=True)
    response = grant(app, "offers_income", shown, **{"Accept-Language": "en"})
    assert response.json()["detail"] == STALE_EN


def test_a_withdrawal_always_succeeds_whatever_text_was_shown(app, sanne):
    publish_version("offers_spending", material=True)
    response = app.post(
        "/api/v1/me/purposes/offers_spending/choice", {"choice": "withdraw"}, format="json"
    )
    assert response.status_code == 200
    assert ConsentState.objects.get(customer=sanne, purpose__code="offers_spending").state == (
        "withdrawn"
    )


def test_a_customer_under_16_is_refused_with_the_day_they_can_choose(db, app_for):
    teenager = CustomerFactory(birth_date=dt.date(2010, 11, 20))
    app = app_for(teenager)
    shown = card(app, "offers_income")
    assert shown["may_grant"] is False and shown["too_young_until"] == "2026-11-20"
    response = grant(app, "offers_income", shown)
    assert response.status_code == 409 and response.json()["code"] == "too_young"
    assert "20 november 2026" in response.json()["detail"]
    assert events_of(teenager) == 0


def test_a_required_purpose_cannot_be_switched_off(app, sanne):
    before = events_of(sanne)
    response = app.post(
        "/api/v1/me/purposes/payments/choice", {"choice": "withdraw"}, format="json"
    )
    assert response.status_code == 409 and response.json()["code"] == "required_purpose"
    assert events_of(sanne) == before


def test_stop_all_withdraws_and_objects_and_a_grant_is_then_refused(app, sanne):
    response = app.post("/api/v1/me/stop-all")
    assert response.status_code == 200
    body = response.json()
    assert [e["action"] for e in body["events"]] == ["withdrawn", "objected"]
    assert all(e["channel"] == "app" for e in body["events"])
    assert body["dashboard"]["objection"]["event_id"] == body["events"][1]["id"]
    refused = grant(app, "offers_income", card(app, "offers_income"))
    assert refused.status_code == 409 and refused.json()["code"] == "objection_stands"


def test_lifting_the_objection_switches_nothing_back_on(app, sanne):
    app.post("/api/v1/me/stop-all")
    response = app.post("/api/v1/me/objection/lift")
    assert response.status_code == 200
    body = response.json()
    assert [e["action"] for e in body["events"]] == ["objection_lifted"]
    assert body["dashboard"]["objection"] is None
    assert not any(p["valid"] for p in body["dashboard"]["purposes"] if not p["required"])


def test_lifting_an_objection_that_does_not_stand_is_409(app, sanne):
    before = events_of(sanne)
    response = app.post("/api/v1/me/objection/lift")
    assert response.status_code == 409 and response.json()["code"] == "no_objection"
    assert events_of(sanne) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"choice": "GRANT"},
        {"choice": "grant", "version": "one"},
        {"choice": "grant", "version": 1, "notice_sha256": "not-a-hash"},
        {"choice": "grant", "version": 0},
        {"choice": ["grant"]},
    ],
)
def test_bad_input_is_a_clear_400_and_changes_nothing(app, sanne, body):
    before = events_of(sanne)
    response = app.post("/api/v1/me/purposes/offers_income/choice", body, format="json")
    assert response.status_code == 400
    assert response.json()  # names the field
    assert events_of(sanne) == before


def test_a_body_that_is_not_json_is_a_400_and_changes_nothing(app, sanne):
    before = events_of(sanne)
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice", "choice=grant", content_type="text/plain"
    )
    assert response.status_code == 415
    response = app.post(
        "/api/v1/me/purposes/offers_income/choice", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert events_of(sanne) == before


# --- Tokens and scopes -------------------------------------------------------------------------
WRITES = [
    ("/api/v1/me/purposes/offers_income/choice", {"choice": "withdraw"}),
    ("/api/v1/me/stop-all", None),
    ("/api/v1/me/objection/lift", None),
    ("/api/v1/me/offers/1/answer", {"answer": "dismiss"}),
]


@pytest.mark.parametrize(("url", "body"), WRITES)
def test_a_read_only_token_cannot_choose(sanne, app_for, url, body):
    before = events_of(sanne)
    response = app_for(sanne, scope=READ).post(url, body, format="json")
    assert response.status_code == 403
    assert "consent:choose" in response.json()["detail"]
    assert events_of(sanne) == before


def test_a_choose_only_token_cannot_read(sanne, app_for):
    assert app_for(sanne, scope=CHOOSE).get("/api/v1/me/purposes").status_code == 403


@pytest.mark.parametrize(("url", "body"), WRITES)
def test_no_token_no_write(sanne, url, body):
    from .conftest import bearer

    before = events_of(sanne)
    response = bearer(None).post(url, body, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert events_of(sanne) == before


def test_a_feed_token_reaches_no_customer_data(sanne, feed_client):
    response = feed_client.get("/api/v1/me/purposes")
    assert response.status_code == 403


def test_a_customers_token_does_not_read_the_feed(app):
    assert app.get("/api/v1/consent-changes").status_code == 403
    assert app.get("/api/v1/purposes/offers_spending/valid-customers").status_code == 403


def test_an_expired_token_is_refused(sanne, app, _frozen_clock):
    assert app.get("/api/v1/me/purposes").status_code == 200
    _frozen_clock.move_to(timezone.now() + dt.timedelta(hours=1, seconds=1))
    response = app.get("/api/v1/me/purposes")
    assert response.status_code == 401


def test_a_staff_member_without_a_customer_record_gets_no_customer_data(db, bank_app):
    from tests.factories import UserFactory

    from .conftest import bearer, issue_token

    staff = UserFactory(username="petra", is_staff=True)
    token = issue_token(bank_app, user=staff, scope=f"{READ} {CHOOSE}")
    assert bearer(token).get("/api/v1/me/purposes").status_code == 403


def test_a_legacy_grant_under_16_shows_as_not_counting(db, app_for, now):
    teenager = CustomerFactory(birth_date=dt.date(2009, 11, 20))  # 16 now, 15 then
    legacy_grant(teenager, "offers_income", at=now - dt.timedelta(days=400))
    income = card(app_for(teenager), "offers_income")
    assert (income["valid"], income["invalid_because"]) == (False, "given_under_16")


def test_every_answer_is_marked_not_for_caches(app):
    assert app.get("/api/v1/me/purposes")["Cache-Control"] == "no-store"


def test_the_apis_own_messages_speak_english_too(app):
    response = app.post(
        "/api/v1/me/offers/999999/answer",
        {"answer": "dismiss"},
        format="json",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 404
    read_only = app.get("/api/v1/consent-changes", headers={"Accept-Language": "en"})
    assert read_only.json()["detail"] == "This token may not do this; it needs: consent:feed"
