"""A customer at the dashboard, in a real browser: choose, see, stop, switch language."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from consent.choices import notice_on_screen, record_choice
from consent.models import ConsentState
from ledger.models import Action, Channel, ConsentEvent
from tests.browser.conftest import log_in
from tests.factories import publish_version

pytestmark = pytest.mark.browser


def grant(customer, code):
    record_choice(
        customer=customer,
        purpose_code=code,
        action=Action.GRANTED,
        channel=Channel.WEB,
        actor=customer.user,
        at=timezone.now(),
        **notice_on_screen(purpose_code=code, at=timezone.now()),
    )


def state_of(customer, code):
    return ConsentState.objects.get(customer=customer, purpose__code=code).state


def test_a_customer_logs_in_and_sees_the_dashboard_in_dutch(page, shopper):
    log_in(page, shopper.customer_number)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn privacykeuzes")
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_text("Wij verkopen uw gegevens nooit, en wij delen")).to_be_visible()
    # Three offers purposes and three ways to contact the customer (e-mail, phone, post).
    expect(page.get_by_role("switch")).to_have_count(6)


def test_flipping_a_switch_changes_it_in_place_and_the_choice_is_kept(page, shopper):
    log_in(page, shopper.customer_number)
    page.evaluate("window.notReloaded = true")
    switch = page.locator("#switch-offers_income")
    expect(switch).to_have_attribute("aria-checked", "false")

    switch.click()

    expect(switch).to_have_attribute("aria-checked", "true")
    expect(page.locator("#announcer")).to_contain_text("U heeft toestemming gegeven")
    assert page.evaluate("window.notReloaded") is True, "the page was reloaded"
    assert state_of(shopper, "offers_income") == Action.GRANTED

    page.reload()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#status-offers_income")).to_contain_text("Aan sinds")

    page.locator("#switch-offers_income").click()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "false")
    expect(page.locator("#announcer")).to_contain_text("ingetrokken")
    assert state_of(shopper, "offers_income") == Action.WITHDRAWN


def test_a_grant_on_a_text_changed_meanwhile_shows_the_new_text_and_saves_nothing(page, shopper):
    """The page is open on version 1; a privacy officer publishes version 2; the customer
    clicks. htmx swaps in the card with the new text and says why nothing was saved."""
    log_in(page, shopper.customer_number)
    page.evaluate("window.notReloaded = true")
    publish_version("offers_income", material=True, title_nl="Aanbiedingen op basis van inkomen")
    page.console.allow("status of 409 (Conflict)")

    page.locator("#switch-offers_income").click()

    card = page.locator("#purpose-offers_income")
    expect(card).to_contain_text("De tekst is veranderd; lees hem en kies opnieuw.")
    expect(card.get_by_role("heading")).to_have_text("Aanbiedingen op basis van inkomen")
    expect(page.locator("#announcer")).to_contain_text("De tekst is veranderd")
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "false")
    assert page.evaluate("window.notReloaded") is True
    assert not ConsentEvent.objects.filter(customer=shopper).exists()

    page.locator("#switch-offers_income").click()  # now on the text it shows
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    assert ConsentEvent.objects.get(customer=shopper).purpose_version.version == 2


def test_a_card_that_needs_a_new_choice_offers_two_equal_buttons(page, shopper):
    grant(shopper, "offers_spending")
    publish_version("offers_spending", material=True)
    log_in(page, shopper.customer_number)
    card = page.locator("#purpose-offers_spending")
    expect(card).to_contain_text("Kies opnieuw:")
    yes, no = card.locator("#grant-offers_spending"), card.locator("#withdraw-offers_spending")
    assert yes.evaluate("e => e.className") == no.evaluate("e => e.className")
    assert yes.bounding_box()["height"] == no.bounding_box()["height"]

    yes.click()

    expect(page.locator("#switch-offers_spending")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#switch-offers_spending")).to_be_focused()


def test_stop_all_switches_everything_off(page, shopper):
    grant(shopper, "offers_spending")
    grant(shopper, "offers_balance")
    log_in(page, shopper.customer_number)
    expect(page.locator('[role=switch][aria-checked="true"]')).to_have_count(2)

    page.get_by_role("button", name="Stop alle persoonlijke aanbiedingen").click()

    expect(page.get_by_role("status")).to_contain_text(
        "Alle persoonlijke aanbiedingen zijn gestopt"
    )
    expect(page.locator('[role=switch][aria-checked="true"]')).to_have_count(0)
    # The objection stands at the top; the offers purposes wait behind it, switched off.
    expect(
        page.get_by_role("heading", name="U heeft alle persoonlijke aanbiedingen gestopt")
    ).to_be_visible()
    expect(page.get_by_role("button", name="Bezwaar opheffen")).to_be_visible()
    assert ConsentEvent.objects.filter(customer=shopper, action=Action.WITHDRAWN).count() == 2
    assert ConsentEvent.objects.filter(customer=shopper, action=Action.OBJECTED).count() == 1


def test_english_is_one_click_away(page, shopper):
    log_in(page, shopper.customer_number)
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My privacy choices")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_text("Offers based on where and how you pay")).to_be_visible()

    page.locator("#switch-offers_balance").click()
    expect(page.locator("#announcer")).to_contain_text("You have given consent")

    page.get_by_role("button", name="Nederlands").click()
    expect(page.locator("html")).to_have_attribute("lang", "nl")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mijn privacykeuzes")


def test_history_shows_the_choice_and_a_receipt(page, shopper):
    log_in(page, shopper.customer_number)
    page.locator("#switch-offers_spending").click()
    expect(page.locator("#switch-offers_spending")).to_have_attribute("aria-checked", "true")

    page.get_by_role("link", name="Geschiedenis").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Geschiedenis van uw keuzes")
    # A list, one entry per choice (a table would scroll sideways on a phone).
    row = page.locator(".events .event").first
    expect(row).to_contain_text("aangezet")
    expect(row.get_by_role("link", name="Versie 1")).to_have_attribute(
        "href", "/purposes/offers_spending/v1/"
    )
    with page.expect_download() as download:
        row.get_by_role("link", name="Bewijs downloaden (JSON)").click()
    assert download.value.suggested_filename.startswith("consent-receipt-")
