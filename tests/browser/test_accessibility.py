"""Keyboard-only use, axe-core and the Content-Security-Policy, in a real browser."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import PASSWORD, log_in, wait_for_dashboard
from tests.factories import publish_version
from tests.offers.factories import make_offer

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

    # The language stored for the customer applies at login.
    shopper.language = language
    shopper.save()
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


def serve(body):
    def handler(route, request):
        route.fulfill(status=200, body=body, content_type="text/html; charset=utf-8")

    return handler


ERROR_PAGES = {  # name: (method, path, extra, CSRF checked as a browser's would be)
    "400": ("GET", "/", {"HTTP_HOST": "bad host"}, False),
    "403-csrf": ("POST", "/choices/offers_spending/", {}, True),
    "404": ("GET", "/no-such-page/", {}, False),
    "405": ("PUT", "/history/", {}, False),
}


@pytest.mark.parametrize("size", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("language", ["nl", "en"])
def test_axe_finds_nothing_serious_on_every_customer_page_and_error_page(
    page, shopper, choose, live_server, size, language
):
    """Every page a customer reaches, and every error page, at both sizes."""
    from django.test import Client

    from tests.browser.conftest import customer_pages
    from tests.offers.factories import make_offer

    now = timezone.now()
    choose(shopper, "offers_spending", at=now)
    make_offer(shopper, status="approved")
    page.set_viewport_size({"width": size[0], "height": size[1]})
    shopper.language = language  # applies at login
    shopper.save()
    log_in(page, shopper.customer_number)
    for url in customer_pages(shopper):
        page.goto(url)
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert serious_violations(page) == [], url
    if size[0] < 500:  # the phone's menu, open
        page.goto("/")
        page.locator(".menu > summary").click()
        assert serious_violations(page) == [], "menu"

    # Error pages as the server renders them, served at a URL of the live server so that
    # their stylesheet loads as it would.
    for name, (method, path, extra, csrf) in ERROR_PAGES.items():
        client = Client(enforce_csrf_checks=csrf, raise_request_exception=False)
        client.force_login(shopper.user)
        client.cookies["django_language"] = language
        response = client.generic(method, path, **extra)
        assert str(response.status_code) == name[:3], name
        preview = f"{live_server.url}/error-preview/{name}/"
        page.route(preview, serve(response.content))
        page.goto(preview)
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert serious_violations(page) == [], name


def test_keyboard_only_erasure_with_the_password_step(page, shopper, choose, settings):
    """A session older than the window: the erasure page asks for the password, with the
    keyboard alone; a wrong one says so and keeps focus in the field; axe finds nothing."""
    settings.RECENT_LOGIN_SECONDS = 0  # every session is "older" than the window
    # Something to erase (with nothing, the page offers no erasure).
    choose(shopper, "offers_spending", at=timezone.now())
    make_offer(shopper)
    log_in(page, shopper.customer_number)
    page.goto("/erasure/")
    password = page.get_by_label("Vul uw wachtwoord nog eens in")
    for _ in range(40):
        page.keyboard.press("Tab")
        if password.evaluate("e => e === document.activeElement"):
            break
    else:
        pytest.fail("the password field cannot be reached with Tab")
    assert serious_violations(page) == []

    page.keyboard.type("not my password")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Dit wachtwoord klopt niet")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    assert serious_violations(page) == []

    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bewijs")
    assert "/receipt/" in page.url
