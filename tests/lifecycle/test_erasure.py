"""Erasure on request (GDPR Art. 17): from the dashboard, a confirmation step that says
what goes and what stays, then at once: offers, answers and the data-use log go; the
request is in the ledger (`erasure_requested`) with a receipt; the export shows it."""

import datetime as dt
import json

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from consent.catalogue import ERASURE_NOTICES, statement_sha256
from consent.choices import stop_all_offers
from consent.models import ConsentState
from ledger.models import Action, Channel, ConsentEvent
from lifecycle.erasure import request_erasure
from offers.engine import generate_offers
from offers.models import DataUse, FollowUp, Offer, OfferEvent
from tests.factories import CustomerFactory
from tests.offers.factories import AccountFactory, make_offer
from tests.proof import checkpoint_and_verify


@pytest.fixture
def noor(db, grant, client):
    """Offers based on her balance on; the engine read her balance and proposed a savings
    account, which she said she is interested in; another offer waits for review."""
    noor = CustomerFactory(customer_number="830001")
    AccountFactory(customer=noor, balance="12500.00")
    grant(noor, "offers_balance", at=timezone.now() - dt.timedelta(days=3))
    grant(noor, "offers_spending", at=timezone.now() - dt.timedelta(days=3))
    make_offer(noor, rule="savings_account", status="accepted")
    make_offer(noor, rule="travel_world_cover")
    generate_offers(as_of=timezone.localdate(), now=timezone.now())
    assert DataUse.objects.filter(customer_id=noor.pk).exists()
    client.force_login(noor.user)
    return noor


@pytest.fixture
def bystander(db, grant):
    daan = CustomerFactory(customer_number="830002")
    grant(daan, "offers_spending")
    make_offer(daan, status="accepted")
    return daan


def test_the_dashboard_leads_to_a_confirmation_that_says_what_goes_and_what_stays(client, noor):
    assert 'href="/erasure/"' in client.get("/").content.decode()
    page = client.get("/erasure/").content.decode()
    assert "2 aanbiedingen, met uw antwoorden" in page
    assert "regels uit het overzicht van wat wij met uw gegevens deden" in page
    # What stays, with the periods from the notices in effect.
    assert "Het bewijs van uw keuzes" in page and "5 jaar na het einde van de klantrelatie" in page
    assert "Uw betalingen" in page and "7 jaar na het einde van de klantrelatie" in page
    assert ERASURE_NOTICES[-1]["nl"] in page
    # Nothing is erased by looking.
    assert Offer.objects.filter(customer=noor).count() == 2


def test_erasure_removes_offers_answers_and_the_data_use_log_at_once(client, noor, bystander):
    response = client.post("/erasure/", follow=True)
    event = ConsentEvent.objects.get(customer=noor, action=Action.ERASURE_REQUESTED)
    assert response.redirect_chain[-1][0] == f"/history/{event.pk}/receipt/"
    page = response.content.decode()
    assert "Verwijderd: 2 aanbiedingen en" in page
    assert "U vroeg ons te verwijderen" in page
    assert not Offer.objects.filter(customer=noor).exists()
    assert not OfferEvent.objects.filter(offer__customer=noor).exists()
    assert not FollowUp.objects.filter(offer__customer=noor).exists()
    assert not DataUse.objects.filter(customer_id=noor.pk).exists()
    # Someone else's are untouched.
    assert Offer.objects.filter(customer=bystander).count() == 1
    assert FollowUp.objects.filter(offer__customer=bystander).count() == 1


def test_the_request_is_in_the_ledger_with_the_statement_confirmed(noor):
    erased = request_erasure(
        customer=noor, channel=Channel.WEB, actor=noor.user, at=timezone.now(), language="en"
    )
    event = erased.event
    assert (event.action, event.purpose_id, event.purpose_version_id) == (
        Action.ERASURE_REQUESTED,
        None,
        None,
    )
    assert event.notice_sha256 == statement_sha256(Action.ERASURE_REQUESTED, "en")
    assert erased.effects["offers_erased"] == 2
    # The choices stay as they were (her two offers consents, and calls about offers).
    assert ConsentState.objects.filter(customer=noor, state=Action.GRANTED).count() == 3
    checkpoint_and_verify()


def test_an_erasure_request_does_not_displace_a_standing_objection(noor):
    """The objection is the state of the purpose-less row; an erasure request is no choice
    and changes no state (the mirror trigger and the verifier leave it out)."""
    stop_all_offers(customer=noor, channel=Channel.WEB, actor=noor.user, at=timezone.now())
    request_erasure(customer=noor, channel=Channel.WEB, actor=noor.user, at=timezone.now())
    objection = ConsentState.objects.get(customer=noor, purpose__isnull=True)
    assert objection.state == Action.OBJECTED
    last = ConsentEvent.objects.filter(customer=noor).order_by("-sequence").first()
    assert last.action == Action.ERASURE_REQUESTED
    checkpoint_and_verify()  # the state mirrors the ledger, chains intact


def test_the_state_cannot_be_made_to_mirror_an_erasure_request(noor):
    request_erasure(customer=noor, channel=Channel.WEB, actor=noor.user, at=timezone.now())
    event = ConsentEvent.objects.get(customer=noor, action=Action.ERASURE_REQUESTED)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO consent_consentstate (customer_id, purpose_id, state,"
            " purpose_version_id, changed_at, event_id) VALUES (%s, NULL, %s, NULL, %s, %s)",
            [noor.pk, Action.ERASURE_REQUESTED, event.occurred_at, event.pk],
        )


def test_history_receipt_and_export_show_the_erasure(client, noor):
    client.post("/erasure/")
    event = ConsentEvent.objects.get(customer=noor, action=Action.ERASURE_REQUESTED)
    history = client.get("/history/").content.decode()
    assert "verwijderd op uw verzoek" in history and f"/history/{event.pk}/receipt/" in history
    receipt = json.loads(client.get(f"/history/{event.pk}/receipt.json").content)
    assert receipt["action"] == "erasure_requested"
    assert receipt["legalBasis"] == "erasure_art_17"
    assert receipt["notice"] == ERASURE_NOTICES[-1]["nl"]
    assert receipt["services"][0]["service"] == "erasure_of_offers"
    export = json.loads(b"".join(client.get("/export.json").streaming_content))
    assert export["history"][-1]["action"] == "erasure_requested"
    assert export["receipts"][-1]["action"] == "erasure_requested"
    assert export["offers"] == [] and export["data_use"] == []
    assert "verwijderd op uw verzoek" in client.get("/export/read/").content.decode()


def refused(sql, params=None) -> str:
    """Run `sql` as the runtime role; the database's refusal."""
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refusal.value)


def test_the_runtime_role_cannot_erase_offers_without_a_request_in_the_ledger(noor):
    other_event = ConsentEvent.objects.filter(customer=noor).first()
    assert "not a request" in refused("SELECT * FROM erase_offers_on_request(%s)", [other_event.pk])
    assert "permission denied" in refused("DELETE FROM offers_offerevent")
    assert "permission denied" in refused("SELECT * FROM retention_delete_offers(ARRAY[1])")
    assert Offer.objects.filter(customer=noor).count() == 2


# --- Erasing asks for the password unless the login was recent ----------------------------
# Someone who finds a logged-in session (a shared computer, a phone left unlocked) must not
# be able to erase the customer's data with one click.
PASSWORD = "correct horse battery"


@pytest.fixture
def a_while_later(_frozen_clock, settings):
    """Six minutes after logging in: older than a five-minute window, well within the
    session's idle limit."""
    settings.RECENT_LOGIN_SECONDS = 5 * 60
    _frozen_clock.shift(dt.timedelta(minutes=6))


def erased(customer) -> bool:
    return (
        ConsentEvent.objects.filter(customer=customer, action=Action.ERASURE_REQUESTED).exists()
        or not Offer.objects.filter(customer=customer).exists()
    )


def test_an_older_session_gets_the_password_step(client, noor, a_while_later):
    page = client.get("/erasure/").content.decode()
    assert 'type="password"' in page and 'autocomplete="current-password"' in page
    assert "Vul uw wachtwoord nog eens in" in page
    assert not erased(noor)


def test_a_fresh_login_goes_straight_through(client, noor):
    page = client.get("/erasure/").content.decode()
    assert 'type="password"' not in page
    response = client.post("/erasure/")
    assert response.status_code == 302
    assert erased(noor)


def test_a_forged_post_skipping_the_password_step_erases_nothing(client, noor, a_while_later):
    response = client.post("/erasure/")
    assert response.status_code == 200
    assert "Er is niets verwijderd" in response.content.decode()
    assert not erased(noor)
    assert Offer.objects.filter(customer=noor).count() == 2
    assert DataUse.objects.filter(customer_id=noor.pk).exists()


def test_a_wrong_password_erases_nothing_and_says_so(client, noor, a_while_later):
    response = client.post("/erasure/", {"password": "not her password"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Dit wachtwoord klopt niet. Er is niets verwijderd." in page
    assert not erased(noor)


def test_the_right_password_erases(client, noor, a_while_later):
    response = client.post("/erasure/", {"password": PASSWORD}, follow=True)
    event = ConsentEvent.objects.get(customer=noor, action=Action.ERASURE_REQUESTED)
    assert response.redirect_chain[-1][0] == f"/history/{event.pk}/receipt/"
    assert not Offer.objects.filter(customer=noor).exists()


def test_guessing_the_password_on_the_erasure_page_locks_like_a_login(
    client, noor, a_while_later, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/erasure/", {"password": "a guess"})
    response = client.post("/erasure/", {"password": PASSWORD})
    assert response.status_code == 429
    assert "Tijdelijk geblokkeerd" in response.content.decode()
    assert not erased(noor)


def test_the_password_step_is_in_english_too(client, noor, a_while_later):
    client.post("/i18n/setlang/", {"language": "en", "next": "/erasure/"})
    page = client.get("/erasure/").content.decode()
    assert "Enter your password again" in page
    wrong = client.post("/erasure/", {"password": "nope"}).content.decode()
    assert "That password is not right. Nothing has been erased." in wrong


def test_after_an_erasure_the_page_says_when_and_offers_no_erasure_of_nothing(client, noor):
    client.post("/erasure/")
    page = client.get("/erasure/").content.decode()
    assert "Op 2 november 2026 heeft u ons gevraagd te wissen" in page
    assert "Er is nu niets te verwijderen." in page
    assert "0 aanbiedingen" not in page and "0 regels" not in page
    assert 'class="erasure-confirm"' not in page
    # A POST all the same records no second request.
    assert client.post("/erasure/").status_code == 200
    assert ConsentEvent.objects.filter(customer=noor, action=Action.ERASURE_REQUESTED).count() == 1


def test_the_data_use_page_says_when_its_log_was_erased(client, noor):
    client.post("/erasure/")
    page = client.get("/offers/data-use/").content.decode()
    assert "Op 2 november 2026 heeft u ons gevraagd te wissen" in page
    assert "Sindsdien hebben wij uw gegevens niet gebruikt voor aanbiedingen." in page
    assert "nog niet gebruikt" not in page
