"""Phone first, in a real browser: nothing scrolls sideways at 320 px,
the header is one row at 390 px, the first switch is on the first screen, and an off
switch does not look on."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import customer_pages, log_in
from tests.offers.factories import make_offer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def busy_shopper(shopper, choose):
    """Sanne with a consent, an approved offer (so a data-use line and transactions) and
    an answered one's worth of history."""
    now = timezone.now()
    choose(shopper, "offers_spending", at=now)
    choose(shopper, "offers_income", at=now)
    make_offer(shopper, status="approved")
    return shopper


def test_no_customer_page_scrolls_sideways_at_320_px(page, busy_shopper):
    page.set_viewport_size({"width": 320, "height": 700})
    page.console.allow("404 (Not Found)")  # the error page, on purpose
    log_in(page, busy_shopper.customer_number)
    for url in [*customer_pages(busy_shopper), "/no-such-page/"]:
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{url} is {width} px wide"
    page.goto("/")
    page.get_by_text("Menu", exact=True).click()  # the phone's menu, open
    assert page.evaluate("document.documentElement.scrollWidth") <= 320


def test_the_header_is_one_row_on_a_phone_and_its_menu_opens(page, shopper):
    page.set_viewport_size(PHONE)
    log_in(page, shopper.customer_number)
    tops = page.locator(".site-header > :visible").evaluate_all(
        "items => items.map(e => Math.round(e.getBoundingClientRect().top))"
    )
    assert len(tops) >= 3 and max(tops) - min(tops) < 12, tops
    assert page.locator(".site-header").bounding_box()["height"] < 80
    menu = page.locator(".menu")
    menu.get_by_text("Menu", exact=True).click()
    expect(menu.get_by_role("link", name="Geschiedenis")).to_be_visible()
    menu.get_by_role("link", name="Geschiedenis").click()
    page.wait_for_url("**/history/")


def test_the_first_switch_is_on_a_phones_first_screen(page, busy_shopper):
    page.set_viewport_size(PHONE)
    log_in(page, busy_shopper.customer_number)
    expect(page.locator(".summary-count")).to_have_text("2 van 6 keuzes aan")
    first = page.get_by_role("switch").first
    assert first.bounding_box()["y"] + first.bounding_box()["height"] <= PHONE["height"]
    # Title and switch side by side.
    card = page.locator("#purpose-offers_spending")
    title = card.locator("h3").bounding_box()
    switch = card.get_by_role("switch").bounding_box()
    assert abs((title["y"] + title["height"] / 2) - (switch["y"] + switch["height"] / 2)) < 30
    # Details open on demand.
    details = card.locator("details.more-info")
    expect(details.get_by_text("Welke gegevens")).to_be_hidden()
    details.locator("summary").click()
    expect(details.get_by_text("Welke gegevens")).to_be_visible()


def luminance(css_colour: str) -> float:
    parts = css_colour[css_colour.index("(") + 1 : css_colour.index(")")].split(",")
    red, green, blue = (int(float(p)) / 255 for p in parts[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_an_off_switch_does_not_look_active(page, shopper, choose):
    choose(shopper, "offers_spending", at=timezone.now())
    log_in(page, shopper.customer_number)
    off = page.locator("#switch-offers_income .switch-track")
    on = page.locator("#switch-offers_spending .switch-track")
    off_colour = off.evaluate("e => getComputedStyle(e).backgroundColor")
    on_colour = on.evaluate("e => getComputedStyle(e).backgroundColor")
    assert luminance(off_colour) > 0.9, off_colour  # an empty (white) track
    assert luminance(on_colour) < 0.5, on_colour  # a filled one
