"""The contact centre's customer view and acting for a customer.

*Klantenservice* staff find a customer by number and see one page: each purpose's state,
whether it counts now and why not, the history with receipts, and the offers with their
history — never banking data. A customer who phones or visits a branch can ask them to
switch a purpose or stop everything; that goes through the same version-bound
`record_choice`, with the staff member as actor and the channel they name."""

import datetime as dt
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.choices import notice_on_screen, stop_all_offers
from consent.models import ConsentState, StaffAction
from ledger.models import Action, ConsentEvent
from tests.factories import CustomerFactory, publish_version
from tests.legacy import legacy_grant
from tests.pages import form_fields

from .factories import AccountFactory, TransactionFactory, make_offer

CUSTOMERS = "/admin/consent/customer/"


def page_of(customer):
    return f"{CUSTOMERS}{customer.customer_number}/change/"


def act_url(customer, action, purpose=None):
    url = f"{CUSTOMERS}{customer.customer_number}/act/{action}/"
    return f"{url}?purpose={purpose}" if purpose else url


def act(client, customer, action, purpose=None, **fields):
    """Open the form as staff would, then send it with `fields` filled in."""
    url = act_url(customer, action, purpose)
    form = client.get(url)
    assert form.status_code == 200
    data = form_fields(form.content.decode(), url)
    data.update(fields)
    return client.post(url, {k: v for k, v in data.items() if v is not None})


FILLED = {"channel": "phone", "identity_checked": "on", "note": "Klant belde: wil dit aan."}


# --- Finding a customer --------------------------------------------------------------------
def test_the_contact_centre_finds_a_customer_by_number(client, contact_centre, sanne, daan):
    client.force_login(contact_centre)
    empty = client.get(CUSTOMERS)
    assert empty.status_code == 200 and list(empty.context["cl"].result_list) == []
    found = client.get(CUSTOMERS, {"q": f" {sanne.customer_number} "})
    assert found.status_code == 302 and found.url == page_of(sanne)
    assert client.get(CUSTOMERS, {"q": "999999"}).context["cl"].result_list.count() == 0


def test_the_page_shows_each_purposes_state_and_why_it_does_not_count(
    client, contact_centre, db, choose, now
):
    expired = CustomerFactory(customer_number="530001")
    choose(expired, "offers_spending", days_ago=800)
    choose(expired, "offers_income", days_ago=3)
    changed = CustomerFactory(customer_number="530002")
    choose(changed, "offers_balance", days_ago=3)
    publish_version("offers_balance", material=True, at=now - dt.timedelta(days=1))
    objector = CustomerFactory(customer_number="530003")
    choose(objector, "offers_spending", days_ago=3)
    legacy_grant(objector, "offers_income", at=now - dt.timedelta(days=2))
    stop_all_offers(customer=objector, channel="web", actor=objector.user, at=now)
    legacy_grant(objector, "offers_balance", at=now)  # from older data: never counts
    teen = CustomerFactory(customer_number="530004", birth_date=dt.date(2012, 1, 1))
    legacy_grant(teen, "offers_spending", at=now - dt.timedelta(days=1))
    client.force_login(contact_centre)

    def row(customer, code):
        page = client.get(page_of(customer)).context["file"]
        return next(card for card in page.cards if card.code == code)

    assert row(expired, "offers_spending").invalid_because == "expired"
    assert row(expired, "offers_income").is_valid
    assert row(expired, "offers_balance").state is None
    assert row(changed, "offers_balance").invalid_because == "material_change"
    assert row(objector, "offers_balance").invalid_because == "objection"
    assert row(teen, "offers_spending").invalid_because == "too_young"
    html = client.get(page_of(expired)).content.decode()
    assert 'nee: <span class="why-not" data-reason="expired">verlopen</span>' in html
    assert "nodig voor de rekening" in html  # required purposes: no choice, always on
    html = client.get(page_of(changed)).content.decode()
    assert "nieuwe tekstversie 2 (materieel)" in html
    html = client.get(page_of(objector)).content.decode()
    assert 'id="objection"' in html and "bezwaar tegen direct marketing</span>" in html
    assert "jonger dan 16</span>" in client.get(page_of(teen)).content.decode()


def test_the_page_shows_the_history_with_receipts(client, contact_centre, sanne, choose):
    choose(sanne, "offers_spending", Action.WITHDRAWN)
    client.force_login(contact_centre)
    page = client.get(page_of(sanne))
    events = page.context["file"].events
    assert [e.action for e in events] == ["withdrawn", "granted"]
    html = page.content.decode()
    for event in events:
        url = f"{CUSTOMERS}{sanne.customer_number}/receipt/{event.pk}.json"
        assert f'href="{url}"' in html
        receipt = json.loads(client.get(url).content)
        assert receipt["consentReceiptID"] == str(event.receipt_id)
        assert receipt["piiPrincipalId"] == sanne.customer_number


def test_a_receipt_of_another_customer_is_not_found_under_this_one(
    client, contact_centre, sanne, daan
):
    other = ConsentEvent.objects.get(customer=daan)
    client.force_login(contact_centre)
    url = f"{CUSTOMERS}{sanne.customer_number}/receipt/{other.pk}.json"
    assert client.get(url).status_code == 404


def test_the_page_shows_the_offers_with_their_history(
    client, contact_centre, sanne, daan, allow_calls
):
    allow_calls(sanne)
    travel = make_offer(sanne, status="accepted")
    make_offer(daan, rule="savings_account")
    client.force_login(contact_centre)
    page = client.get(page_of(sanne))
    # The offers' part of the page (other apps add theirs: the third parties').
    (section,) = [
        part
        for part in page.context["file"].sections
        if part.template == "admin/offers/customer_offers.html"
    ]
    (shown,) = section.context["offers"]
    assert shown.offer == travel
    assert [e.to_state for e in shown.events] == ["proposed", "approved", "accepted", "open"]
    html = page.content.decode()
    assert "Reisverzekering wereld" in html
    assert "Kaartbetalingen buiten Europa: ja, in de Verenigde Staten" in html  # banded
    assert "medewerker rik-reviewer" in html and "de klant" in html


def test_the_page_never_shows_transactions_balances_or_exact_amounts(client, contact_centre, sanne):
    account = AccountFactory(customer=sanne, balance="43210.99")
    TransactionFactory(account=account, counterparty_name="Hotel Chelsea", description="kamer 12")
    make_offer(sanne)
    client.force_login(contact_centre)
    html = client.get(page_of(sanne)).content.decode()
    for secret in (
        "43210",
        "43.210",
        "Hotel Chelsea",
        "kamer 12",
        account.iban,
        "2 kaartbetalingen",
    ):
        assert secret not in html, secret


def test_the_page_runs_a_fixed_number_of_queries(client, contact_centre, sanne, choose):
    make_offer(sanne, status="dismissed")
    client.force_login(contact_centre)
    client.get(page_of(sanne))
    with CaptureQueriesContext(connection) as before:
        client.get(page_of(sanne))
    choose(sanne, "offers_balance")
    choose(sanne, "offers_income")
    make_offer(sanne, rule="savings_account", status="accepted")
    make_offer(sanne, rule="student_account", status="rejected")
    with CaptureQueriesContext(connection) as after:
        client.get(page_of(sanne))
    assert len(after) == len(before)


@pytest.mark.parametrize("persona", ["reviewer", "privacy_officer"])
def test_only_the_contact_centre_opens_the_customer_view(client, request, sanne, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(CUSTOMERS).status_code == 403
    assert client.get(page_of(sanne)).status_code == 403
    event = ConsentEvent.objects.get(customer=sanne)
    receipt = f"{CUSTOMERS}{sanne.customer_number}/receipt/{event.pk}.json"
    assert client.get(receipt).status_code == 403


def test_the_contact_centre_sees_customers_and_follow_ups_and_nothing_else(client, contact_centre):
    client.force_login(contact_centre)
    response = client.get("/admin/")
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    # Permissions: to withdraw a third party's access for a customer on the phone.
    assert models == {"Customer", "FollowUp", "Permission"}
    for url in (
        "/admin/offers/offer/",
        "/admin/ledger/consentevent/",
        "/admin/auth/user/",
        "/admin/access/read/",
        "/admin/access/datauser/",
    ):
        assert client.get(url).status_code == 403, url


# --- Acting for a customer -----------------------------------------------------------------
def test_staff_record_a_grant_by_phone_with_actor_channel_identity_and_note(
    client, contact_centre, daan
):
    client.force_login(contact_centre)
    form = client.get(act_url(daan, "grant", "offers_income"))
    notice = notice_on_screen(purpose_code="offers_income", at=timezone.now())
    assert form.context["notice"].text.startswith("Aanbiedingen op basis van wie u betaalt")
    assert form.context["form"].initial == notice  # version and hash of the text shown

    response = act(client, daan, "grant", "offers_income", **FILLED)

    assert response.status_code == 302 and response.url == page_of(daan)
    event = ConsentEvent.objects.get(customer=daan, purpose__code="offers_income")
    assert (event.action, event.actor, event.channel) == ("granted", contact_centre, "phone")
    assert (event.purpose_version.version, event.notice_sha256) == (
        notice["version"],
        notice["notice_sha256"],
    )
    staff_action = StaffAction.objects.get(event=event)
    assert (staff_action.staff, staff_action.channel) == (contact_centre, "phone")
    assert staff_action.identity_checked and staff_action.note == FILLED["note"]


def test_staff_record_a_withdrawal_at_a_branch(client, contact_centre, sanne):
    offer = make_offer(sanne, status="approved")
    client.force_login(contact_centre)
    response = act(client, sanne, "withdraw", "offers_spending", **{**FILLED, "channel": "branch"})
    assert response.status_code == 302
    state = ConsentState.objects.get(customer=sanne, purpose__code="offers_spending")
    assert (state.state, state.event.actor, state.event.channel) == (
        "withdrawn",
        contact_centre,
        "branch",
    )
    offer.refresh_from_db()
    assert offer.status == "retracted"
    assert offer.events.get(to_state="retracted").consent_event == state.event


@pytest.mark.parametrize(
    "missing",
    [{"channel": None}, {"channel": "web"}, {"identity_checked": None}, {"note": "  "}],
    ids=["no channel", "not phone or branch", "identity not checked", "no note"],
)
def test_the_form_requires_channel_identity_check_and_note(client, contact_centre, daan, missing):
    client.force_login(contact_centre)
    response = act(client, daan, "grant", "offers_income", **{**FILLED, **missing})
    assert response.status_code == 400
    assert not ConsentEvent.objects.filter(customer=daan, purpose__code="offers_income").exists()
    assert not StaffAction.objects.exists()


def test_a_reviewer_cannot_act_for_a_customer(client, reviewer, contact_centre, daan):
    client.force_login(contact_centre)
    url = act_url(daan, "grant", "offers_income")
    fields = {**form_fields(client.get(url).content.decode(), url), **FILLED}
    client.force_login(reviewer)
    assert client.get(url).status_code == 403
    assert client.post(url, fields).status_code == 403
    assert not ConsentEvent.objects.filter(customer=daan, purpose__code="offers_income").exists()


def test_staff_cannot_grant_for_a_customer_under_16(client, contact_centre, db):
    teen = CustomerFactory(customer_number="530010", birth_date=dt.date(2011, 6, 1))
    client.force_login(contact_centre)
    assert 'id="grant-offers_spending"' not in client.get(page_of(teen)).content.decode()
    response = act(client, teen, "grant", "offers_spending", **FILLED)
    assert response.status_code == 409
    assert "jonger dan 16" in response.context["refusal"]
    assert not ConsentEvent.objects.filter(customer=teen).exists()


def test_staff_cannot_grant_against_an_objection_until_the_customer_asks_to_lift_it(
    client, contact_centre, daan, now
):
    stop_all_offers(customer=daan, channel="web", actor=daan.user, at=now)
    client.force_login(contact_centre)
    assert "eerst bezwaar opheffen" in client.get(page_of(daan)).content.decode()

    refused = act(client, daan, "grant", "offers_balance", **FILLED)
    assert refused.status_code == 409
    assert (
        "Hef het bezwaar alleen op als de klant daar zelf om vraagt" in refused.context["refusal"]
    )
    assert ConsentState.objects.get(customer=daan, purpose__code="offers_balance").state == (
        "withdrawn"
    )

    lifted = act(client, daan, "lift-objection", note="Klant vraagt bezwaar op te heffen.",
                 channel="phone", identity_checked="on")  # fmt: skip
    assert lifted.status_code == 302
    lift = ConsentEvent.objects.get(customer=daan, action=Action.OBJECTION_LIFTED)
    assert (lift.actor, lift.channel) == (contact_centre, "phone")
    assert act(client, daan, "grant", "offers_balance", **FILLED).status_code == 302
    assert ConsentState.objects.get(customer=daan, purpose__code="offers_balance").state == (
        "granted"
    )


def test_a_grant_on_a_text_that_changed_meanwhile_is_refused_with_the_new_text(
    client, contact_centre, daan
):
    client.force_login(contact_centre)
    url = act_url(daan, "grant", "offers_income")
    fields = {**form_fields(client.get(url).content.decode(), url), **FILLED}
    new = publish_version("offers_income", material=True, at=timezone.now())
    response = client.post(url, fields)
    assert response.status_code == 409
    assert "De tekst is intussen veranderd" in response.context["refusal"]
    assert response.context["notice"].version == new
    assert not ConsentEvent.objects.filter(customer=daan, purpose__code="offers_income").exists()
    resent = form_fields(response.content.decode(), url, **FILLED)
    assert client.post(url, resent).status_code == 302


def test_staff_stop_everything_for_a_customer(client, contact_centre, sanne, choose):
    choose(sanne, "offers_balance")
    offer = make_offer(sanne, status="approved")
    client.force_login(contact_centre)
    response = act(client, sanne, "stop-all", **FILLED)
    assert response.status_code == 302
    events = ConsentEvent.objects.filter(customer=sanne, actor=contact_centre)
    assert sorted(e.action for e in events) == ["objected", "withdrawn", "withdrawn"]
    assert StaffAction.objects.filter(event__in=events).count() == 3
    offer.refresh_from_db()
    assert offer.status == "retracted"


def test_the_customer_sees_in_the_history_that_bank_staff_did_it_by_phone(
    client, contact_centre, daan
):
    client.force_login(contact_centre)
    act(client, daan, "grant", "offers_income", **FILLED)
    client.force_login(daan.user)
    html = client.get("/history/").content.decode()
    assert "door een medewerker van de bank, telefonisch" in html


def test_staff_record_one_choice_at_a_time_there_is_no_bulk_action(client, contact_centre, daan):
    client.force_login(contact_centre)
    page = client.get(CUSTOMERS, {"q": "x"})
    assert page.context["action_form"] is None and 'name="action"' not in page.content.decode()
    assert client.get(f"{CUSTOMERS}{daan.customer_number}/act/grant/").status_code == 404


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE consent_staffaction SET note = 'anders'",
        "DELETE FROM consent_staffaction",
        "TRUNCATE consent_staffaction CASCADE",
    ],
)
def test_the_database_keeps_every_staff_action(client, contact_centre, daan, statement):
    client.force_login(contact_centre)
    act(client, daan, "grant", "offers_income", **FILLED)
    refused = pytest.raises(DatabaseError, match="permission denied")
    with refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert StaffAction.objects.get().note == FILLED["note"]


def test_a_grant_through_the_service_needs_the_permission(reviewer, daan, now):
    from django.core.exceptions import PermissionDenied

    from consent.staff import act_for_customer

    with pytest.raises(PermissionDenied):
        act_for_customer(
            customer=daan,
            staff=reviewer,
            action=Action.GRANTED,
            purpose_code="offers_income",
            channel="phone",
            identity_checked=True,
            note="x",
            at=now,
            **notice_on_screen(purpose_code="offers_income", at=now),
        )
    assert not ConsentEvent.objects.filter(customer=daan, purpose__code="offers_income").exists()
