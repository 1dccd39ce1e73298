"""A customer's whole life at the bank, and after: joins, consents on the website, gets an
offer and answers it, leaves; then `enforce_retention` on each date the notices promise,
the day before and the day itself. After each run exactly what the catalogue says may
stay is still there, and at the end only the pseudonymised customer row, the disabled
login and the tombstone of the removed chain. The verifier passes all along, with
checkpoints taken along the way."""

import datetime as dt
import io

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.utils import timezone
from oauth2_provider.models import Application

from access.models import Permission
from api.linked_apps import record_authorisation
from api.models import ConsentChange, LinkedApp
from banking.models import Account, Holding, Transaction
from consent.choices import notice_on_screen
from consent.models import AdvanceNotice, ConsentState, Customer
from ledger.models import ConsentEvent, LedgerTombstone
from offers.models import DataUse, FollowUp, Offer, OfferEvent
from offers.review import approve
from tests.factories import UserFactory
from tests.offers.factories import AccountFactory, TransactionFactory

JOINED = dt.date(2026, 11, 2)
LEFT = dt.date(2026, 11, 9)
CSV = (
    "customer_number,first_name,last_name,email,birth_date,language,phone\n"
    "810001,Fleur,de Vries,fleur@example.nl,1990-04-01,nl,+31 6 1234 5678\n"
)


def run(command, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def held(customer) -> dict[str, int]:
    """Every row anywhere that is about the customer, by model (zero counts left out)."""
    counts = {
        "events": ConsentEvent.objects.filter(customer=customer).count(),
        "states": ConsentState.objects.filter(customer=customer).count(),
        "feed": ConsentChange.objects.filter(customer=customer).count(),
        "offers": Offer.objects.filter(customer=customer).count(),
        "offer_events": OfferEvent.objects.filter(offer__customer=customer).count(),
        "follow_ups": FollowUp.objects.filter(offer__customer=customer).count(),
        "data_use": DataUse.objects.filter(customer_id=customer.pk).count(),
        "accounts": Account.objects.filter(customer=customer).count(),
        "holdings": Holding.objects.filter(customer=customer).count(),
        "transactions": Transaction.objects.filter(account__customer=customer).count(),
        "tombstones": LedgerTombstone.objects.filter(customer=customer).count(),
        "linked_apps": LinkedApp.objects.filter(customer=customer).count(),
        "advance_notices": AdvanceNotice.objects.filter(customer=customer).count(),
        "third_party_access": Permission.objects.filter(customer=customer).count(),
    }
    # Nothing else in the schema points at a customer without being counted above.
    counted = {ConsentEvent, ConsentState, ConsentChange, Offer, DataUse, Account, Holding}
    counted |= {LedgerTombstone, LinkedApp, AdvanceNotice, Permission}
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.related_model is Customer:
                assert model in counted, f"{model.__name__} refers to customers: count it"
    return {name: count for name, count in counts.items() if count}


@pytest.fixture
def checkpoints(settings):
    def take():
        run("checkpoint_ledger")
        verified = run("verify_consent_ledger")
        assert "ledger ok" in verified, verified
        return verified

    return take


def test_a_customer_joins_consents_gets_an_offer_leaves_and_is_removed_on_the_promised_dates(
    db, client, tmp_path, travel, checkpoints
):
    # Joins: imported from the bank's customer file, with a phone number.
    travel(JOINED)
    path = tmp_path / "customers.csv"
    path.write_text(CSV)
    assert "created: 1" in run("import_customers", str(path))
    fleur = Customer.objects.get(customer_number="810001")
    assert fleur.phone == "+31 6 1234 5678"
    fleur.user.set_password("demo-privacy-2026")
    fleur.user.save()
    account = AccountFactory(customer=fleur, balance="12500.00")
    TransactionFactory(account=account, booked_at=timezone.now() - dt.timedelta(days=3))

    # Consents, on the website, to offers based on her balance.
    client.force_login(fleur.user)
    shown = notice_on_screen(purpose_code="offers_balance", at=timezone.now())
    response = client.post("/choices/offers_balance/", {"choice": "grant", **shown})
    assert response.status_code == 302
    # And to calls about offers (consent.channels): her "interessant" asks for a call.
    shown = notice_on_screen(purpose_code="contact_phone", at=timezone.now())
    response = client.post("/choices/contact_phone/", {"choice": "grant", **shown})
    assert response.status_code == 302
    checkpoints()
    # Lets the bank's app act for her (the token endpoint links it).
    app = Application.objects.create(
        name="Voorbeeldbank app",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="nl.voorbeeldbank.app:/oauth/callback",
        algorithm="",
    )
    record_authorisation(
        customer_id=fleur.pk, application_id=app.pk, scope="consent:read", at=timezone.now()
    )

    # The engine offers a savings account; a reviewer approves; she is interested.
    run("generate_offers", "--as-of", JOINED.isoformat())
    offer = Offer.objects.get(customer=fleur)
    approve(offer_ids=[offer.pk], reviewer=UserFactory(is_staff=True), at=timezone.now())
    assert client.post(f"/offers/{offer.pk}/interested/").status_code == 302
    assert held(fleur) == {
        "events": 2,
        "states": 2,
        "feed": 2,
        "offers": 1,
        "offer_events": 4,  # proposed, approved, accepted, follow-up opened
        "follow_ups": 1,
        "data_use": 1,
        "accounts": 1,
        "transactions": 1,
        "linked_apps": 1,
    }

    # Leaves a week later: her consents are withdrawn by the system, she cannot log in.
    travel(LEFT)
    assert "customer 810001 closed on 2026-11-09: 2 consent(s) withdrawn" in run(
        "close_customer", "810001", "--on", LEFT.isoformat()
    )
    assert client.get("/").status_code in (302, 403)
    fleur.refresh_from_db()
    assert fleur.closed_on == LEFT and not fleur.user.is_active
    checkpoints()
    # The system's withdrawal and her departure, both in the ledger; the withdrawal closed
    # the call she had asked for (nobody calls a customer who left).
    after_leaving = {**held(fleur), "events": 5, "states": 2, "feed": 4, "offer_events": 5}
    assert held(fleur) == after_leaving
    assert FollowUp.objects.get(offer=offer).outcome == "withdrawn"
    assert LinkedApp.objects.get(customer=fleur).revoked_by == "left_bank"

    # The data-use log: one year after the read (2 Nov). Offers: one year after the offer
    # closed (its last event: the call closed when she left, 9 Nov).
    travel(dt.date(2027, 11, 1))
    run("enforce_retention")
    assert held(fleur) == after_leaving
    travel(dt.date(2027, 11, 2))
    out = run("enforce_retention")
    assert "data_use (the log of what we did with your data): 1 rows" in out
    without_the_log = {name: n for name, n in after_leaving.items() if name != "data_use"}
    assert held(fleur) == without_the_log
    travel(dt.date(2027, 11, 8))
    run("enforce_retention")
    assert held(fleur) == without_the_log
    travel(dt.date(2027, 11, 9))
    out = run("enforce_retention")
    assert "offers (offers and your answers to them): 1 offers, 5 offer events, 1 follow ups" in out
    after_a_year = {
        "events": 5,
        "states": 2,
        "feed": 4,
        "accounts": 1,
        "transactions": 1,
        "linked_apps": 1,
    }
    assert held(fleur) == after_a_year
    checkpoints()

    # The proof of consent: five years after she left, removed whole, with a tombstone.
    travel(dt.date(2031, 11, 8))
    run("enforce_retention")
    assert held(fleur) == after_a_year
    travel(dt.date(2031, 11, 9))
    out = run("enforce_retention")
    assert "consent_proof" in out and "1 customers, 5 events, 4 feed rows, 1 linked apps" in out
    # Transactions are kept by fraud detection (5 years after the transaction) and by
    # payments (7 years after the relationship ends): the longest wins.
    after_five_years = {"accounts": 1, "transactions": 1, "tombstones": 1}
    assert held(fleur) == after_five_years
    checkpoints()  # the tombstone covers the chain's leaves, and the checkpoint signs it

    # Payments data and the profile: seven years after she left.
    travel(dt.date(2033, 11, 8))
    run("enforce_retention")
    assert held(fleur) == after_five_years
    travel(dt.date(2033, 11, 9))
    out = run("enforce_retention")
    assert "transactions (your payments): 1 months, 1 rows" in out
    assert "accounts (your accounts, balances and products): 1 accounts" in out
    assert "profile" in out and "1 customers" in out

    # What stays is what the catalogue says must: the tombstone, and the customer number
    # it names, on a row that says nothing else about her.
    assert held(fleur) == {"tombstones": 1}
    fleur.refresh_from_db()
    fleur.user.refresh_from_db()
    assert (fleur.first_name, fleur.last_name, fleur.email, fleur.phone) == ("", "", "", "")
    assert fleur.birth_date is None and fleur.pseudonymised_on == dt.date(2033, 11, 9)
    assert fleur.customer_number == "810001" and fleur.closed_on == LEFT
    assert (fleur.user.first_name, fleur.user.email, fleur.user.is_active) == ("", "", False)
    assert not fleur.user.has_usable_password()
    checkpoints()

    # And again the same day: nothing more to do.
    assert "0 removed or pseudonymised in all" in run("enforce_retention")
    # Re-importing the old customer file does not bring her back.
    assert "unchanged: 1" in run("import_customers", str(path))
    fleur.refresh_from_db()
    assert fleur.first_name == "" and fleur.phone == ""
