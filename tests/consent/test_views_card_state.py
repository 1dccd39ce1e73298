"""The card's state (`/cards/<code>/`): what site.js asks when a choice's answer got lost.

Safe to repeat, never cached, and only ever the logged-in customer's own card: the
customer is the session's, never a parameter.
"""

import re

from django.test.utils import override_settings
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from consent.models import Purpose
from ledger.models import Action, ConsentEvent
from tests.factories import CustomerFactory, publish_version
from tests.pages import choice_form

HTMX = {"HX-Request": "true"}


def stored(html, code):
    """What the card's data-stored says the stored state fulfils: grant, withdraw or ''."""
    return re.search(rf'id="purpose-{code}"[^>]*data-stored="(\w*)"', html).group(1)


def test_the_card_state_is_the_logged_in_customers_own_card(client, choose_now, db):
    sanne = CustomerFactory(customer_number="300101", first_name="Sanne")
    daan = CustomerFactory(customer_number="300102", first_name="Daan")
    choose_now(sanne, "offers_income")
    client.force_login(daan.user)

    html = client.get("/cards/offers_income/", headers=HTMX).content.decode()

    # Daan's card, off, though Sanne's is on; and nothing else of any page.
    assert stored(html, "offers_income") == "withdraw"
    assert 'aria-checked="false"' in html and "Aan sinds" not in html
    assert "Uit. U heeft hier nog geen keuze over gemaakt." in html
    assert html.count("<article") == 1 and "<html" not in html
    assert "Sanne" not in html and "300101" not in html
    # Whatever is added to the URL, it is still the session's customer.
    sneaky = client.get(
        f"/cards/offers_income/?customer={sanne.pk}&customer_number=300101", headers=HTMX
    )
    assert stored(sneaky.content.decode(), "offers_income") == "withdraw"


def test_the_card_state_is_never_cached(customer_client):
    response = customer_client.get("/cards/offers_spending/", headers=HTMX)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert "HX-Request" in response["Vary"]


def test_the_card_state_of_a_purpose_that_does_not_exist_is_404(customer_client):
    assert customer_client.get("/cards/offers_spending/", headers=HTMX).status_code == 200
    # Not in the catalogue; in it, but with no published text (no card either).
    Purpose.objects.create(
        code="offers_later", legal_basis="consent", required=False, direct_marketing=True
    )
    for code in ("offers_lottery", "offers_later"):
        response = customer_client.get(f"/cards/{code}/", headers=HTMX)
        assertContains(response, "Pagina niet gevonden", status_code=404)
        assert customer_client.get(f"/cards/{code}/").status_code == 404


def test_the_card_state_says_which_choice_the_stored_state_holds(customer_client, customer):
    html = customer_client.get("/cards/offers_spending/", headers=HTMX).content.decode()
    assert stored(html, "offers_spending") == "grant"
    form = choice_form(customer_client, "offers_spending", "withdraw")
    customer_client.post("/choices/offers_spending/", form, headers=HTMX)
    html = customer_client.get("/cards/offers_spending/", headers=HTMX).content.decode()
    # Withdrawn: what a withdrawal asked for, however often it is asked again.
    assert stored(html, "offers_spending") == "withdraw"
    assert 'aria-checked="false"' in html and "Uit sinds" in html


def test_a_consent_that_no_longer_counts_holds_neither_choice(customer_client):
    """Granted once, then the text changed: a lost grant of the new text was not saved,
    nor was a lost withdrawal."""
    publish_version("offers_spending", material=True)
    html = customer_client.get("/cards/offers_spending/", headers=HTMX).content.decode()
    assert stored(html, "offers_spending") == ""
    assert "Kies opnieuw:" in html


@override_settings(CONSENT_MAX_AGE_DAYS=30)
def test_an_expired_consent_holds_neither_choice(client, customer_who_did_not, choose_now):
    choose_now(customer_who_did_not, "offers_balance", Action.GRANTED, days_ago=40)
    client.force_login(customer_who_did_not.user)
    html = client.get("/cards/offers_balance/", headers=HTMX).content.decode()
    assert stored(html, "offers_balance") == ""


def test_the_card_state_brings_the_summary_along_and_changes_nothing(customer_client, customer):
    before = ConsentEvent.objects.count()
    for _ in range(2):
        html = customer_client.get("/cards/offers_spending/", headers=HTMX).content.decode()
    assert 'id="summary"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "1 van 6 keuzes aan" in html
    # No live region: site.js says what the outcome was, once.
    assert 'id="announcer"' not in html
    assert ConsentEvent.objects.count() == before


def test_without_javascript_the_card_state_is_the_dashboard_at_that_card(customer_client):
    response = customer_client.get("/cards/offers_spending/")
    assertRedirects(response, "/#purpose-offers_spending", fetch_redirect_response=False)


def test_the_card_state_is_for_logged_in_customers_only(client, db):
    response = client.get("/cards/offers_spending/", headers=HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_card_state_changes_nothing_on_post(customer_client, customer):
    response = customer_client.post("/cards/offers_spending/", {"choice": "withdraw"})
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"
    html = customer_client.get("/cards/offers_spending/", headers=HTMX).content.decode()
    assert stored(html, "offers_spending") == "grant"
