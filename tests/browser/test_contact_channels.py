"""The contact channels on a phone, in a real browser, in both languages: the section
with its three switches (role=switch, aria-checked), each operable with the keyboard,
and the app's card without a switch."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SWITCHES = ("#switch-contact_email", "#switch-contact_phone", "#switch-contact_post")


def test_the_channel_cards_on_a_phone_with_the_keyboard_in_dutch(page, shopper):
    page.set_viewport_size(PHONE)
    log_in(page, shopper.customer_number)
    channels = page.locator("section#channels")
    expect(channels.get_by_role("heading", level=2)).to_have_text(
        "Hoe wij contact met u mogen opnemen"
    )
    expect(channels.get_by_role("switch")).to_have_count(3)
    for switch in SWITCHES:
        expect(page.locator(switch)).to_have_attribute("aria-checked", "false")
    # The app and the website: said, without a switch.
    app = page.locator("#channel-app")
    expect(app).to_contain_text("daarvoor is geen aparte toestemming nodig")
    expect(app.get_by_role("switch")).to_have_count(0)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Reached with Tab, switched on with Space and off with Enter, focus kept.
    phone = page.locator("#switch-contact_phone")
    for _ in range(60):
        page.keyboard.press("Tab")
        if phone.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the phone switch cannot be reached with Tab")
    page.keyboard.press("Space")
    expect(page.locator("#switch-contact_phone")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#switch-contact_phone")).to_be_focused()
    expect(page.locator("#status-contact_phone")).to_contain_text("Aan sinds")
    page.keyboard.press("Enter")
    expect(page.locator("#switch-contact_phone")).to_have_attribute("aria-checked", "false")


def test_the_channel_cards_on_a_phone_in_english(page, shopper):
    page.set_viewport_size(PHONE)
    log_in(page, shopper.customer_number)
    page.locator(".language-switch button[value=en]").click()
    channels = page.locator("section#channels")
    expect(channels.get_by_role("heading", level=2)).to_have_text("How we may contact you")
    expect(channels.get_by_role("switch", name="E-mail about offers")).to_be_visible()
    expect(channels.get_by_role("switch", name="Phone calls about offers")).to_be_visible()
    expect(channels.get_by_role("switch", name="Letters about offers")).to_be_visible()
    expect(page.locator("#channel-app")).to_contain_text("no separate consent is needed")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    post = page.locator("#switch-contact_post")
    post.focus()
    page.keyboard.press("Space")
    expect(page.locator("#switch-contact_post")).to_have_attribute("aria-checked", "true")
    expect(page.locator("#status-contact_post")).to_contain_text("On since")
