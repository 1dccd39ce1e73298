"""A choice never fails silently, in a real browser.

Whatever goes wrong — the server fails, the database is down, the connection drops, the
page's security token is no longer accepted, the session ended — the card says the
choice was NOT saved, the live region reads it out, the switch stays as it was, and
"Probeer opnieuw" gets the customer to a saved choice. (The card says so only after the
bank, asked what is stored, says it was not: tests/browser/test_lost_answers.py.)
"""

import os
import time

import pytest
from django.contrib.auth.hashers import make_password
from playwright.sync_api import expect

from consent.models import ConsentState
from tests.browser.conftest import ConsoleWatch, log_in
from tests.factories import CustomerFactory
from tests.test_faults import production_server, wait_for_health  # noqa: F401 - a fixture

pytestmark = pytest.mark.browser

NOT_SAVED = "Uw keuze is NIET opgeslagen."


def state_of(customer, code):
    state = ConsentState.objects.filter(customer=customer, purpose__code=code).first()
    return state.state if state else None


def expect_not_saved(page, code, reason, timeout=5_000):
    card = page.locator(f"#purpose-{code}")
    expect(card.locator(".not-saved")).to_contain_text(NOT_SAVED, timeout=timeout)
    expect(card.locator(".not-saved")).to_contain_text(reason)
    expect(card.get_by_role("button", name="Probeer opnieuw")).to_be_visible()
    expect(page.locator("#announcer")).to_contain_text(NOT_SAVED)
    expect(page.locator(f"#switch-{code}")).to_have_attribute("aria-checked", "false")


def test_a_lost_connection_says_not_saved_and_try_again_saves_it(page, shopper):
    log_in(page, shopper.customer_number)
    page.route("**/choices/offers_income/", lambda route: route.abort())
    page.console.allow("net::ERR_FAILED")
    page.console.allow("htmx:")  # htmx logs the failed request itself

    page.locator("#switch-offers_income").click()

    expect_not_saved(page, "offers_income", "Er is geen verbinding met de bank.")
    assert state_of(shopper, "offers_income") is None
    page.unroute("**/choices/offers_income/")
    page.get_by_role("button", name="Probeer opnieuw").click()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#purpose-offers_income .not-saved")).to_have_count(0)
    assert state_of(shopper, "offers_income") == "granted"


def test_a_server_error_says_not_saved(page, shopper):
    log_in(page, shopper.customer_number)
    page.route(
        "**/choices/offers_balance/",
        lambda route: route.fulfill(status=500, body="<h1>Er ging iets mis</h1>"),
    )
    page.console.allow("500 (Internal Server Error)")
    page.console.allow("htmx:")
    page.console.allow("Response Status Error Code")
    page.locator("#switch-offers_balance").click()
    expect_not_saved(page, "offers_balance", "Er ging bij ons iets mis.")


def test_a_refused_security_token_says_not_saved_and_try_again_reloads(page, shopper):
    log_in(page, shopper.customer_number)
    page.context.clear_cookies(name="csrftoken")
    page.console.allow("403 (Forbidden)")
    page.console.allow("htmx:")
    page.console.allow("Response Status Error Code")

    page.locator("#switch-offers_spending").click()

    expect_not_saved(page, "offers_spending", "Deze pagina was te lang open.")
    assert state_of(shopper, "offers_spending") is None
    page.get_by_role("button", name="Probeer opnieuw").click()
    page.wait_for_url("**/#purpose-offers_spending")
    page.wait_for_load_state()
    page.locator("#switch-offers_spending").click()
    expect(page.locator("#switch-offers_spending")).to_have_attribute("aria-checked", "true")
    assert state_of(shopper, "offers_spending") == "granted"


@pytest.mark.parametrize("javascript", [True, False], ids=["htmx", "no-javascript"])
def test_after_the_session_ended_the_customer_is_told_and_lands_back_at_the_card(
    browser, live_server, shopper, javascript
):
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", java_script_enabled=javascript
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = ConsoleWatch(page)
    log_in(page, shopper.customer_number)
    context.clear_cookies(name="sessionid")  # the session ran out while the page was open

    page.locator("#switch-offers_income").click()

    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_role("status")).to_contain_text("Wat u net koos, is NIET opgeslagen.")
    page.locator("#id_username").fill(shopper.customer_number)
    page.locator("#id_password").fill("correct horse battery")
    page.locator(".login-form [type=submit]").click()
    page.wait_for_url("**/#purpose-offers_income")
    card = page.locator("#purpose-offers_income")
    expect(card).to_contain_text("U was uitgelogd, daarom is uw keuze hier NIET opgeslagen.")
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "false")
    assert state_of(shopper, "offers_income") is None
    assert console.errors == []
    context.close()


def test_without_javascript_a_choice_returns_to_its_card(browser, live_server, shopper):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    log_in(page, shopper.customer_number)
    page.locator("#switch-offers_balance").click()
    page.wait_for_url("**/#purpose-offers_balance")
    expect(page.locator("#purpose-offers_balance")).to_contain_text("U heeft toestemming gegeven")
    expect(page.locator("#switch-offers_balance")).to_have_attribute("aria-checked", "true")
    # The card is on the screen, not the top of the page.
    assert page.evaluate("window.scrollY") > 0
    context.close()


@pytest.mark.slow
@pytest.mark.skipif(
    bool(os.environ.get("DATABASE_URL")),
    reason="stops and starts the embedded PostgreSQL; with DATABASE_URL there is none",
)
def test_with_the_database_stopped_a_choice_cannot_be_told_then_not_saved_on_the_production_stack(
    browser,
    production_server,  # noqa: F811 - the fixture imported above
):
    """`bin/serve` (gunicorn, production settings, the pool) with PostgreSQL really
    stopped: the 503 reaches htmx as an error; the card asks what is stored, gets a 503
    too, and says it cannot tell yet. With the database back, asking again says NOT
    saved, and trying again saves it."""
    from django.db import connection

    from infra.database import embedded_server
    from tests.test_faults import Browserless

    customer = CustomerFactory(customer_number="820001")
    customer.user.password = make_password("fault-test-password", hasher="pbkdf2_sha256")
    customer.user.save()
    port = production_server
    context = browser.new_context(base_url=f"http://127.0.0.1:{port}", locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, "820001", password="fault-test-password")
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "false")

    server = embedded_server()
    server.stop()
    try:
        wait_for_health(Browserless(port), 503)
        page.locator("#switch-offers_income").click()
        # The pool waits up to 5 s for a connection before each 503.
        card = page.locator("#purpose-offers_income")
        expect(card.locator(".not-known")).to_contain_text(
            "Wij kunnen nog niet zien of uw keuze is opgeslagen.", timeout=30_000
        )
        expect(card.get_by_text("NIET opgeslagen")).to_have_count(0)
    finally:
        server.start()
        connection.close()  # this process's connection died with the server
    wait_for_health(Browserless(port), 200)
    time.sleep(0.5)
    page.get_by_role("button", name="Opnieuw kijken").click()
    expect_not_saved(page, "offers_income", "Er ging bij ons iets mis.")
    page.get_by_role("button", name="Probeer opnieuw").click()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    assert state_of(customer, "offers_income") == "granted"
    context.close()
