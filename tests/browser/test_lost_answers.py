"""A choice whose answer got lost, in a real browser: the card never says what is not true.

A server can commit a choice and then lose the answer (a worker killed, a connection cut,
a proxy's error page). Before the card says anything it asks the bank what is stored, and
says that: saved after all, NOT saved, or that it cannot tell yet.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from ledger.models import Action
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import serious_violations
from tests.browser.test_never_silent import NOT_SAVED, state_of
from tests.choices import choose_on_screen

pytestmark = pytest.mark.browser

SAVED_AFTER_ALL = "Uw keuze is toch opgeslagen."
NOT_KNOWN = "Wij kunnen nog niet zien of uw keuze is opgeslagen."


def reaches_the_bank_then(lost, answers):
    """A route handler: the choice goes to the server, which records it and answers
    (`answers` collects the status); then the answer is lost as `lost` says."""

    def handle(route):
        answers.append(route.fetch().status)
        if lost == "connection cut":
            route.abort("connectionreset")
        elif lost == "proxy error":
            route.fulfill(status=502, body="<h1>502 Bad Gateway</h1>")
        else:  # a 200 that is not the card, e.g. a network's own login page
            route.fulfill(status=200, body="<h1>Welkom op het gastnetwerk</h1>")

    return handle


def allow_failure_noise(page):
    for text in ("net::ERR_", "htmx:", "Response Status Error Code", "502 (Bad Gateway)"):
        page.console.allow(text)


def watch_state_questions(page):
    asked = []
    page.on(
        "request",
        lambda request: asked.append(request.method) if "/cards/" in request.url else None,
    )
    return asked


@pytest.mark.parametrize("lost", ["connection cut", "proxy error", "not the card"])
def test_a_choice_saved_before_its_answer_was_lost_says_saved_after_all(page, shopper, lost):
    log_in(page, shopper.customer_number)
    allow_failure_noise(page)
    answers = []
    page.route("**/choices/offers_income/", reaches_the_bank_then(lost, answers))
    switch = page.locator("#switch-offers_income")

    switch.click()

    card = page.locator("#purpose-offers_income")
    expect(card.locator(".saved-after-all")).to_have_text(SAVED_AFTER_ALL)
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(card.locator(".since")).to_contain_text("Aan sinds")
    expect(page.locator("#announcer")).to_contain_text(SAVED_AFTER_ALL)
    expect(page.locator("#announcer")).to_contain_text("Aan sinds")
    expect(page.locator("#summary-count")).to_have_text("1 van 6 keuzes aan")
    expect(page.get_by_text("NIET opgeslagen")).to_have_count(0)
    expect(switch).to_be_focused()  # the switch in the stored card, where it was
    assert answers == [200]
    assert state_of(shopper, "offers_income") == Action.GRANTED


def test_a_withdrawal_whose_answer_was_lost_shows_off_even_if_it_was_off_before(page, shopper):
    """The page was open while the consent was withdrawn elsewhere (another tab, the
    app); the withdrawal from this page reaches the bank, its answer does not. What the
    customer asked for is what is stored: off."""
    choose_on_screen(shopper, "offers_income", Action.GRANTED, at=timezone.now())
    log_in(page, shopper.customer_number)
    switch = page.locator("#switch-offers_income")
    expect(switch).to_have_attribute("aria-checked", "true")
    choose_on_screen(shopper, "offers_income", Action.WITHDRAWN, at=timezone.now())
    allow_failure_noise(page)
    answers = []
    page.route("**/choices/offers_income/", reaches_the_bank_then("connection cut", answers))

    switch.click()

    card = page.locator("#purpose-offers_income")
    expect(card.locator(".saved-after-all")).to_have_text(SAVED_AFTER_ALL)
    expect(switch).to_have_attribute("aria-checked", "false")
    expect(card.locator(".since")).to_contain_text("Uit sinds")
    expect(page.get_by_text("NIET opgeslagen")).to_have_count(0)
    assert state_of(shopper, "offers_income") == Action.WITHDRAWN


def test_a_choice_that_never_reached_the_bank_says_not_saved_after_asking(page, shopper):
    log_in(page, shopper.customer_number)
    allow_failure_noise(page)
    asked = watch_state_questions(page)
    page.route("**/choices/offers_income/", lambda route: route.abort())

    page.locator("#switch-offers_income").click()

    card = page.locator("#purpose-offers_income")
    expect(card.locator(".not-saved")).to_contain_text(NOT_SAVED)
    expect(card.locator(".not-saved")).to_contain_text("Er is geen verbinding met de bank.")
    expect(page.locator("#announcer")).to_contain_text(NOT_SAVED)
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "false")
    expect(card.get_by_text(SAVED_AFTER_ALL)).to_have_count(0)
    assert asked == ["GET"], "the card said NOT saved without asking the bank"
    assert state_of(shopper, "offers_income") is None


def test_when_the_bank_cannot_be_asked_either_the_card_says_it_cannot_tell_yet(page, shopper):
    log_in(page, shopper.customer_number)
    allow_failure_noise(page)
    answers = []
    page.route("**/choices/offers_income/", reaches_the_bank_then("connection cut", answers))
    page.route("**/cards/offers_income/", lambda route: route.abort("connectionreset"))
    switch = page.locator("#switch-offers_income")

    switch.click()

    card = page.locator("#purpose-offers_income")
    expect(card.locator(".not-known")).to_contain_text(NOT_KNOWN)
    expect(page.locator("#announcer")).to_contain_text(NOT_KNOWN)
    # Neither outcome is claimed: the choice was in fact saved, but nobody can tell yet.
    expect(card.get_by_text("NIET opgeslagen")).to_have_count(0)
    expect(card.get_by_text(SAVED_AFTER_ALL)).to_have_count(0)
    expect(switch).to_have_attribute("aria-checked", "false")  # as it was, not as guessed
    assert serious_violations(page) == []

    # The bank answers again: checking again tells the truth.
    page.unroute("**/cards/offers_income/")
    card.get_by_role("button", name="Opnieuw kijken").click()
    expect(card.locator(".saved-after-all")).to_have_text(SAVED_AFTER_ALL)
    expect(switch).to_have_attribute("aria-checked", "true")
    expect(switch).to_be_focused()
    assert answers == [200]


def test_in_english_a_choice_saved_before_its_answer_was_lost_says_saved_after_all(page, shopper):
    shopper.language = "en"
    shopper.save()
    log_in(page, shopper.customer_number)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    allow_failure_noise(page)
    page.route("**/choices/offers_balance/", reaches_the_bank_then("connection cut", []))

    page.locator("#switch-offers_balance").click()

    card = page.locator("#purpose-offers_balance")
    expect(card.locator(".saved-after-all")).to_have_text("Your choice was saved after all.")
    expect(page.locator("#announcer")).to_contain_text("Your choice was saved after all.")
    expect(page.locator("#switch-offers_balance")).to_have_attribute("aria-checked", "true")


def test_in_english_when_the_bank_cannot_be_asked_the_card_says_it_cannot_tell_yet(page, shopper):
    shopper.language = "en"
    shopper.save()
    log_in(page, shopper.customer_number)
    allow_failure_noise(page)
    page.route("**/choices/offers_balance/", lambda route: route.abort())
    page.route("**/cards/offers_balance/", lambda route: route.abort())

    page.locator("#switch-offers_balance").click()

    card = page.locator("#purpose-offers_balance")
    expect(card.locator(".not-known")).to_contain_text(
        "We cannot tell yet whether your choice was saved."
    )
    expect(card.get_by_role("button", name="Check again")).to_be_visible()
    expect(card.get_by_role("button", name="Reload the page")).to_be_visible()
