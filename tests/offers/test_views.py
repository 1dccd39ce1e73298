"""The customer's offers page (docs/architecture.md): approved offers whose consent still holds,
why each is shown, and the customer's answer — never someone else's offer."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.validity import start_of_day
from ledger.models import Action
from offers import engine
from offers.models import Offer
from tests.pages import downloaded_json

from .factories import make_offer

# Every test here also runs around midnight and on the days the clocks change: an offer's
# date and a consent's age are days in Amsterdam, whatever the hour in UTC.
pytestmark = pytest.mark.any_hour


@pytest.fixture
def approved(sanne):
    return make_offer(sanne, status="approved")


def shown_offers(response) -> list[int]:
    """The ids of the offers the page shows the customer, as cards to answer, in order;
    with none, the page says so."""
    assert response.status_code == 200
    html = response.content.decode()
    shown = [int(pk) for pk in re.findall(r'<article class="offer-card" id="offer-(\d+)"', html)]
    assert ('id="no-offers"' in html) == (not shown)
    return shown


def test_the_page_shows_an_approved_offer_with_why_and_the_choice_it_used(client, sanne, approved):
    client.force_login(sanne.user)
    response = client.get("/offers/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Reisverzekering wereld" in page
    assert "Waarom zie ik dit?" in page
    assert "betaalde onlangs met uw pas buiten Europa" in page
    assert "2 kaartbetalingen in de Verenigde Staten, laatst op" in page
    assert "(tekstversie 1)" in page
    assert 'href="/#purpose-offers_spending"' in page
    assert f'action="/offers/{approved.pk}/interested/"' in page
    assert f'action="/offers/{approved.pk}/dismiss/"' in page


def test_the_page_speaks_english_for_an_english_session(client, sanne, approved):
    client.force_login(sanne.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/offers/"})
    page = client.get("/offers/").content.decode()
    assert "World-wide travel insurance" in page and "Why am I seeing this?" in page
    assert "recently paid by card outside Europe" in page


@pytest.mark.parametrize(
    "status", ["proposed", "rejected", "dismissed", "accepted", "retracted", "expired"]
)
def test_only_approved_offers_are_shown(client, sanne, status):
    make_offer(sanne, status=status)
    client.force_login(sanne.user)
    response = client.get("/offers/")
    assert shown_offers(response) == []
    assert "U heeft op dit moment geen aanbiedingen." in response.content.decode()


def test_consent_is_checked_again_when_the_page_renders(client, sanne, approved, settings):
    client.force_login(sanne.user)
    assert shown_offers(client.get("/offers/")) == [approved.pk]
    # Sanne chose a hundred days ago; with a 50-day maximum her consent has lapsed, and no
    # engine run has retracted the offer yet: the page leaves it out all the same.
    settings.CONSENT_MAX_AGE_DAYS = 50
    assert shown_offers(client.get("/offers/")) == []
    assert Offer.objects.get().status == "approved"


def test_an_offer_past_its_date_is_not_shown_even_before_it_is_marked_expired(client, sanne):
    # Made 61 calendar days ago in Amsterdam: valid for 60 days, so until yesterday. (Not
    # "61 times 24 hours ago", which near midnight can be 60 calendar days.)
    made_on = timezone.localdate() - dt.timedelta(days=61)
    make_offer(sanne, status="approved", now=start_of_day(made_on) + dt.timedelta(hours=12))
    client.force_login(sanne.user)
    assert shown_offers(client.get("/offers/")) == []


def test_an_offer_on_a_consent_given_again_after_a_withdrawal_is_not_shown(
    client, sanne, approved, choose
):
    choose(sanne, "offers_spending", Action.WITHDRAWN)
    Offer.objects.update(status="approved")  # as if the withdrawal had not reached it
    choose(sanne, "offers_spending")
    client.force_login(sanne.user)
    assert shown_offers(client.get("/offers/")) == []


def test_the_page_runs_a_fixed_number_of_queries(client, sanne, daan, choose):
    choose(sanne, "offers_balance")
    choose(sanne, "offers_income")
    first = make_offer(sanne, status="approved")
    client.force_login(sanne.user)
    with CaptureQueriesContext(connection) as one:
        assert shown_offers(client.get("/offers/")) == [first.pk]
    second = make_offer(sanne, rule="savings_account", status="approved")
    third = make_offer(sanne, rule="student_account", status="approved")
    with CaptureQueriesContext(connection) as three:
        shown = shown_offers(client.get("/offers/"))
    assert sorted(shown) == sorted([first.pk, second.pk, third.pk])
    assert len(three) == len(one)


# --- Answers -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("action", "status"), [("interested", "accepted"), ("dismiss", "dismissed")]
)
def test_answering_without_javascript_redirects_back_with_a_message(
    client, sanne, approved, action, status
):
    client.force_login(sanne.user)
    response = client.post(f"/offers/{approved.pk}/{action}/", follow=True)
    assert response.redirect_chain == [("/offers/", 302)]
    approved.refresh_from_db()
    assert approved.status == status
    assert "Reisverzekering wereld" in response.content.decode()
    assert shown_offers(response) == []


def test_answering_with_htmx_swaps_the_offer_and_announces_it(client, sanne, approved):
    client.force_login(sanne.user)
    response = client.post(f"/offers/{approved.pk}/dismiss/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="offer-{approved.pk}"' in html and "<html" not in html
    assert 'hx-swap-oob="innerHTML"' in html
    assert "minstens 180 dagen niet opnieuw" in html


@pytest.mark.parametrize("action", ["interested", "dismiss"])
def test_another_customers_offer_is_a_404_and_nothing_changes(
    client, sanne, daan, approved, action
):
    client.force_login(daan.user)
    response = client.post(f"/offers/{approved.pk}/{action}/")
    assert response.status_code == 404
    approved.refresh_from_db()
    assert (approved.status, approved.status_changed_at) == ("approved", approved.created_at)


@pytest.mark.parametrize("status", ["proposed", "rejected", "retracted", "dismissed"])
def test_an_offer_the_customer_cannot_answer_now_is_a_409_and_nothing_changes(
    client, sanne, status
):
    offer = make_offer(sanne, status=status)
    client.force_login(sanne.user)
    response = client.post(f"/offers/{offer.pk}/interested/")
    assert response.status_code == 409
    assert "Er is niets veranderd." in response.content.decode()
    assert Offer.objects.get().status == status


def test_with_htmx_an_offer_answered_elsewhere_reloads_the_page_with_a_message(client, sanne):
    offer = make_offer(sanne, status="dismissed")
    client.force_login(sanne.user)
    response = client.post(f"/offers/{offer.pk}/interested/", headers={"HX-Request": "true"})
    assert response.status_code == 409 and response["HX-Refresh"] == "true"
    page = client.get("/offers/").content.decode()
    assert "Dit aanbod is niet meer beschikbaar." in page
    assert Offer.objects.get().status == "dismissed"


def test_answering_needs_a_post_and_a_login(client, approved):
    assert client.post(f"/offers/{approved.pk}/dismiss/").status_code == 302
    client.force_login(approved.customer.user)
    # A GET (a reload, a login that lands here) is not an answer: back to the offer.
    response = client.get(f"/offers/{approved.pk}/dismiss/")
    assert response.status_code == 302
    assert response["Location"] == f"/offers/#offer-{approved.pk}"
    assert Offer.objects.get().status == "approved"


def test_the_export_reflects_every_status_change(client, sanne, reviewer):
    from offers import review

    offer = make_offer(sanne)
    client.force_login(sanne.user)

    def exported_status():
        (item,) = downloaded_json(client.get("/export.json"))["offers"]
        return item["status"]

    assert exported_status() == "proposed"
    review.approve(offer_ids=[offer.pk], reviewer=reviewer, at=timezone.now())
    assert exported_status() == "approved"
    client.post(f"/offers/{offer.pk}/interested/")
    assert exported_status() == "accepted"


def test_a_dismissed_product_is_not_offered_again_for_180_days(traveller, now, client):
    from .conftest import AS_OF

    engine.generate_offers(as_of=AS_OF, now=now)
    Offer.objects.update(status="approved")
    offer = Offer.objects.get()
    # The customer dismisses it on the page (real clock), then the engine runs again.
    client.force_login(traveller.user)
    client.post(f"/offers/{offer.pk}/dismiss/")
    assert Offer.objects.get().status == "dismissed"
    Offer.objects.update(status_changed_at=now)
    engine.generate_offers(as_of=AS_OF + dt.timedelta(days=179), now=now)
    assert Offer.objects.count() == 1


def test_the_dashboard_and_the_menu_link_to_the_offers_page(client, sanne):
    client.force_login(sanne.user)
    page = client.get("/").content.decode()
    # The menu (wide screens), the phone's menu, and the dashboard's own link.
    assert page.count('href="/offers/"') == 3
