"""Keyboard-only use, axe-core and the Content-Security-Policy, in a real browser."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, log_in, wait_for_dashboard
from tests.factories import publish_version

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}


def serious_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in SERIOUS
    ]


def test_keyboard_only_log_in_and_flip_a_switch(page, shopper):
    page.goto("/accounts/login/")
    # The customer number field has focus on arrival.
    page.keyboard.type(shopper.customer_number)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    wait_for_dashboard(page)

    # The first Tab reaches the skip link, and it is visible when focused.
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["x"] >= 0

    switch = page.locator("#switch-offers_balance")
    for _ in range(40):
        page.keyboard.press("Tab")
        if switch.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the switch cannot be reached with Tab")
    outline = switch.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline not in ("", "none"), "focus is not visible"

    page.keyboard.press("Space")
    expect(switch).to_have_attribute("aria-checked", "true")
    # The swapped card keeps keyboard focus on the switch.
    expect(page.locator("#switch-offers_balance")).to_be_focused()

    page.keyboard.press("Enter")
    expect(page.locator("#switch-offers_balance")).to_have_attribute("aria-checked", "false")


def test_keyboard_only_stop_all(page, shopper):
    log_in(page, shopper.customer_number)
    page.locator("#switch-offers_income").click()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    stop = page.get_by_role("button", name="Stop alle persoonlijke aanbiedingen")
    stop.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text(
        "Alle persoonlijke aanbiedingen zijn gestopt"
    )
    expect(page.locator('[role=switch][aria-checked="true"]')).to_have_count(0)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_axe_finds_nothing_serious_on_any_customer_page(page, shopper, choose, language):
    now = timezone.now()
    for code in ("offers_spending", "offers_balance"):
        choose(shopper, code, at=now)
    # One card asks for a new choice, so that state is checked too.
    publish_version("offers_balance", material=True)

    page.goto("/accounts/login/")
    if language == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    assert serious_violations(page) == []

    log_in(page, shopper.customer_number)
    pages = ["/", "/history/", "/export/", "/purposes/offers_spending/v1/"]
    for url in pages:
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert serious_violations(page) == [], url

    # After an htmx swap, too.
    page.goto("/")
    page.locator("#switch-offers_income").click()
    expect(page.locator("#switch-offers_income")).to_have_attribute("aria-checked", "true")
    assert serious_violations(page) == []


def test_no_csp_violation_on_any_page_or_swap(page, shopper):
    # The page fixture fails the test on any console error; this visits everything.
    page.goto("/accounts/login/")
    log_in(page, shopper.customer_number)
    for url in ("/", "/history/", "/export/", "/purposes/payments/v1/"):
        response = page.goto(url)
        csp = response.headers["content-security-policy"]
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    page.goto("/")
    page.locator("#switch-offers_spending").click()
    expect(page.locator("#switch-offers_spending")).to_have_attribute("aria-checked", "true")
    # htmx is loaded (so the swap above was htmx, not a full page) and injected no style.
    assert page.evaluate("typeof htmx") == "object"
    assert page.locator("style").count() == 0
    assert page.console.csp_errors == []
