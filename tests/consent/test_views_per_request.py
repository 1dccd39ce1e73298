"""Nothing on a page comes from another request: each customer sees their own state, a
choice or a new text shows at once, each language its own words, and the per-request values
(CSRF token, CSP nonce) are new each time. (The pages once cached fragments shared between
customers; since the move to Jinja2 they render whole, and these tests keep it honest.)"""

import re

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from ledger.models import Action
from tests.factories import CustomerFactory, publish_version


def switch(html, code):
    return html[html.index(f'id="switch-{code}"') :][:200]


def test_each_customer_sees_their_own_state_one_after_the_other(client, db, choose_now):
    on, off = CustomerFactory(first_name="Aan"), CustomerFactory(first_name="Uit")
    choose_now(on, "offers_spending")
    for _ in range(2):  # the same process serves both, twice
        client.force_login(on.user)
        html = client.get("/").content.decode()
        assert 'aria-checked="true"' in switch(html, "offers_spending")
        assert "1 van 6 keuzes aan" in html
        client.force_login(off.user)
        html = client.get("/").content.decode()
        assert 'aria-checked="false"' in switch(html, "offers_spending")
        assert "0 van 6 keuzes aan" in html


def test_a_choice_shows_at_once(customer_client, customer, choose_now):
    assert 'aria-checked="true"' in switch(
        customer_client.get("/").content.decode(), "offers_spending"
    )
    choose_now(customer, "offers_spending", Action.WITHDRAWN)
    html = customer_client.get("/").content.decode()
    assert 'aria-checked="false"' in switch(html, "offers_spending")
    assert "Uit sinds" in html


@pytest.mark.parametrize("code", ["payments", "offers_spending"])
def test_a_new_version_shows_at_once(customer_client, code):
    assertContains(customer_client.get("/"), f'href="/purposes/{code}/v1/"')
    publish_version(code, material=False, description_nl="Een geheel nieuwe beschrijving.")
    response = customer_client.get("/")
    assertContains(response, "Een geheel nieuwe beschrijving.")
    assertContains(response, f'href="/purposes/{code}/v2/"')
    assertNotContains(response, f'href="/purposes/{code}/v1/"')


def test_each_language_gets_its_own_words(customer_client):
    dutch = customer_client.get("/")
    assertContains(dutch, "Wij verkopen uw gegevens nooit")
    assertContains(dutch, "Mijn aanbiedingen")
    customer_client.cookies["django_language"] = "en"
    english = customer_client.get("/")
    assertContains(english, '<html lang="en">')
    assertContains(english, "We never sell your data")
    assertContains(english, "My offers")
    assertNotContains(english, "Wij verkopen uw gegevens nooit")
    assertNotContains(english, "Mijn aanbiedingen")


def test_the_menu_marks_the_page_it_is_on(customer_client):
    assertContains(customer_client.get("/"), 'href="/" aria-current="page"', count=2)
    history = customer_client.get("/history/")
    assertContains(history, 'href="/history/" aria-current="page"', count=2)
    assertNotContains(history, 'href="/" aria-current="page"')


def test_per_request_values_are_never_cached(customer_client):
    """The CSRF token and the CSP nonce are made for each request."""
    pages = [customer_client.get("/").content.decode() for _ in range(2)]
    nonces = [re.findall(r'nonce="([^"]+)"', page) for page in pages]
    assert nonces[0] and nonces[1] and set(nonces[0]).isdisjoint(nonces[1])
    tokens = [re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page) for page in pages]
    # Every form on the page (the cards', stop-all, log out, the language switch)...
    assert len(tokens[0]) >= 6
    # ...carries this request's token (masked anew for each request).
    assert set(tokens[0]).isdisjoint(tokens[1])


def test_a_card_result_for_a_required_purpose_is_shown_once(customer_client):
    customer_client.get("/")
    refused = customer_client.post(
        "/choices/payments/", {"choice": "withdraw"}, headers={"HX-Request": "true"}
    )
    assertContains(refused, "kan niet worden uitgezet", status_code=409)
    assertContains(refused, 'id="purpose-payments"', status_code=409)
    assertNotContains(customer_client.get("/"), "kan niet worden uitgezet")
