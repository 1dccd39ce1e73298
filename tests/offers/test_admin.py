"""The offers queue in the admin (docs/architecture.md): what reviewers can see and do, and
what not."""

import pytest
from django.utils import timezone

from consent.models import ConsentState
from ledger.models import Action, ConsentEvent
from offers.models import Offer

from .factories import AccountFactory, TransactionFactory, make_offer

QUEUE = "/admin/offers/offer/"


def post_action(client, action, offers, **extra):
    return client.post(
        QUEUE,
        {"action": action, "_selected_action": [o.pk for o in offers], **extra},
        follow=True,
    )


# --- Permissions by group ------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/admin/offers/account/",
        "/admin/offers/holding/",
        "/admin/offers/transaction/",
        "/admin/offers/account/1/change/",
        "/admin/offers/transaction/TX1/change/",
        "/admin/consent/customer/",
        "/admin/auth/user/",
    ],
)
def test_a_reviewer_cannot_reach_banking_data_by_url(client, reviewer, sanne, url):
    account = AccountFactory(customer=sanne)
    TransactionFactory(account=account, transaction_id="TX1")
    client.force_login(reviewer)
    assert client.get(url).status_code in (403, 404)


def test_nobody_reaches_banking_data_in_the_admin_not_even_a_superuser(admin_client, sanne):
    AccountFactory(customer=sanne)
    for url in ("/admin/offers/account/", "/admin/offers/transaction/", "/admin/offers/holding/"):
        assert admin_client.get(url).status_code == 404, url
    index = admin_client.get("/admin/").content.decode()
    assert "/admin/offers/transaction/" not in index and "/admin/offers/account/" not in index


def test_a_reviewer_sees_only_the_offers_runs_and_products_in_the_admin(client, reviewer):
    client.force_login(reviewer)
    response = client.get("/admin/")
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert models == {"Offer", "OfferRun", "Product"}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/ledger/consentevent/",
        "/admin/consent/consentstate/",
        "/admin/consent/purposeversion/add/",
        "/admin/consent/purpose/record-of-processing.csv",
        "/admin/offers/offer/overview/",
    ],
)
def test_a_reviewer_cannot_reach_the_ledger_the_texts_or_the_privacy_pages(client, reviewer, url):
    client.force_login(reviewer)
    assert client.get(url).status_code == 403


def test_a_reviewer_cannot_change_the_ledger_through_the_admin(client, reviewer, sanne):
    event = ConsentEvent.objects.get(customer=sanne)
    client.force_login(reviewer)
    response = client.post(f"/admin/ledger/consentevent/{event.pk}/change/", {"action": "x"})
    assert response.status_code == 403
    assert ConsentEvent.objects.get(pk=event.pk).action == "granted"


def test_a_privacy_officer_reads_the_ledger_but_cannot_change_it_or_review(
    client, privacy_officer, sanne
):
    offer = make_offer(sanne)
    event = ConsentEvent.objects.get(customer=sanne)
    client.force_login(privacy_officer)
    assert client.get(f"/admin/ledger/consentevent/{event.pk}/change/").status_code == 200
    assert client.get("/admin/ledger/consentevent/add/").status_code == 403
    assert client.get(QUEUE).status_code == 200
    # No review actions for a privacy officer: the queue shows, the action is refused.
    post_action(client, "approve_selected", [offer])
    assert Offer.objects.get().status == "proposed"


def test_the_offer_is_read_only_for_everyone_and_cannot_be_added_or_deleted(admin_client, sanne):
    offer = make_offer(sanne)
    assert admin_client.get(f"{QUEUE}add/").status_code == 403
    assert admin_client.get(f"{QUEUE}{offer.pk}/delete/").status_code == 403
    admin_client.post(f"{QUEUE}{offer.pk}/change/", {"status": "approved"})
    post_action(admin_client, "delete_selected", [offer], post="yes")
    assert Offer.objects.get().status == "proposed"


# --- The queue -----------------------------------------------------------------------------
def test_the_queue_filters_and_searches_by_customer_number(client, reviewer, sanne, daan):
    make_offer(sanne)
    make_offer(daan, rule="savings_account")
    client.force_login(reviewer)
    found = client.get(QUEUE, {"q": sanne.customer_number}).context["cl"].result_list
    assert [o.customer for o in found] == [sanne]
    found = client.get(QUEUE, {"rule": "savings_account"}).context["cl"].result_list
    assert [o.customer for o in found] == [daan]
    found = client.get(QUEUE, {"status__exact": "proposed"}).context["cl"].result_list
    assert len(found) == 2


def test_the_detail_page_shows_explanation_banded_evidence_and_consents_not_banking_data(
    client, reviewer, sanne
):
    account = AccountFactory(customer=sanne, balance="43210.99")
    TransactionFactory(account=account, counterparty_name="Hotel Chelsea", description="kamer 12")
    offer = make_offer(sanne)
    event = ConsentEvent.objects.get(customer=sanne)
    client.force_login(reviewer)

    page = client.get(f"{QUEUE}{offer.pk}/change/").content.decode()

    assert "betaalde onlangs met uw pas buiten Europa" in page
    assert "Kaartbetalingen buiten Europa: ja, in de Verenigde Staten" in page
    assert "2 kaartbetalingen" not in page  # the customer's own count is theirs
    # The rule and the purpose by name, not by code.
    assert "Reisverzekering wereld" in page and "travel_world_cover" not in page
    assert (
        "Aanbiedingen op basis van waar en hoe u betaalt — toestemming gegeven v1 (materieel), "
        in page
    )
    assert f"#{event.pk}" in page
    for secret in ("43210", "Hotel Chelsea", "kamer 12", account.iban, sanne.last_name):
        assert secret not in page, secret
    assert 'name="_save"' not in page


def test_bulk_approve_approves_and_records_the_reviewer(client, reviewer, sanne, daan):
    offers = [make_offer(sanne), make_offer(daan, rule="savings_account")]
    client.force_login(reviewer)
    response = post_action(client, "approve_selected", offers)
    assert "2 aanbiedingen goedgekeurd." in response.content.decode()
    for offer in Offer.objects.all():
        assert (offer.status, offer.reviewed_by) == ("approved", reviewer)
        assert offer.reviewed_at is not None


def test_approve_tells_the_reviewer_when_consent_no_longer_holds(client, reviewer, sanne, choose):
    offer = make_offer(sanne)
    choose(sanne, "offers_spending", Action.WITHDRAWN, at=timezone.now())
    # Stand for a consent that lapsed without the withdrawal hook reaching the offer.
    Offer.objects.filter(pk=offer.pk).update(status="proposed")
    client.force_login(reviewer)
    content = post_action(client, "approve_selected", [offer]).content.decode()
    assert "0 aanbiedingen goedgekeurd." in content
    assert "1 aanbod is ingetrokken in plaats van goedgekeurd" in content
    assert Offer.objects.get().status == "retracted"


def test_reject_asks_for_a_reason_on_an_intermediate_page(client, reviewer, sanne):
    offer = make_offer(sanne)
    client.force_login(reviewer)
    response = post_action(client, "reject_selected", [offer])
    assert response.templates[0].name == "admin/offers/offer/reject.html"
    assert 'name="reason"' in response.content.decode()
    assert Offer.objects.get().status == "proposed"


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_without_a_reason_changes_nothing(client, reviewer, sanne, reason):
    offer = make_offer(sanne)
    client.force_login(reviewer)
    response = post_action(client, "reject_selected", [offer], post="yes", reason=reason)
    assert response.templates[0].name == "admin/offers/offer/reject.html"
    assert "Geef een reden om af te wijzen." in response.content.decode()
    offer.refresh_from_db()
    assert (offer.status, offer.rejection_reason, offer.reviewed_by) == ("proposed", "", None)


def test_reject_with_a_reason_stores_it_with_the_reviewer(client, reviewer, sanne, daan):
    offers = [make_offer(sanne), make_offer(daan, rule="savings_account")]
    client.force_login(reviewer)
    response = post_action(
        client, "reject_selected", offers, post="yes", reason="Klant heeft net een klacht"
    )
    assert "2 aanbiedingen afgewezen." in response.content.decode()
    for offer in Offer.objects.all():
        assert (offer.status, offer.rejection_reason) == ("rejected", "Klant heeft net een klacht")
        assert offer.reviewed_by == reviewer


def test_staff_without_the_review_permission_cannot_use_the_actions(client, db, sanne):
    from tests.factories import UserFactory

    clerk = UserFactory(username="clerk", is_staff=True)
    client.force_login(clerk)
    offer = make_offer(sanne)
    assert client.get(QUEUE).status_code == 403
    post_action(client, "approve_selected", [offer])
    assert Offer.objects.get().status == "proposed"
    assert ConsentState.objects.get(customer=sanne).state == "granted"
