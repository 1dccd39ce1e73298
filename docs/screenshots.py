"""Takes the README's screenshots (desktop and a 390 by 844 phone) from a running demo
(`make run`), with Debian's Chromium.

Run `python manage.py generate_offers` first, so the review queue and the funnel have
the engine's offers in them.

Usage: `.venv/bin/python docs/screenshots.py [http://127.0.0.1:8000]`
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

DOCS = Path(__file__).parent
PASSWORD = "demo-privacy-2026"  # noqa: S105 - the demo password printed by `make run`
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]


def log_in(page, base, username):
    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator(".login-form [type=submit]").click()
    page.wait_for_url(f"{base}/")


def log_in_to_admin(page, base, username, next_path):
    page.goto(f"{base}/admin/login/?next={next_path}")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url(f"{base}{next_path}")


def main(base="http://127.0.0.1:8000"):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=ARGS
        )
        viewport = {"width": 1100, "height": 900}
        phone = {"width": 390, "height": 844}
        # Sanne (stored language Dutch): the dashboard on a desktop, full page, and the
        # first screen of a phone.
        page = browser.new_page(viewport=viewport, locale="nl-NL")
        log_in(page, base, "100001")
        page.screenshot(path=DOCS / "dashboard-nl.png", full_page=True)
        page.goto(f"{base}/history/")
        page.screenshot(path=DOCS / "history-nl.png", full_page=True)
        page.close()
        page = browser.new_page(viewport=phone, locale="nl-NL", device_scale_factor=1)
        log_in(page, base, "100001")
        page.screenshot(path=DOCS / "dashboard-phone-nl.png")
        page.goto(f"{base}/offers/data-use/")
        page.screenshot(path=DOCS / "data-use-phone-nl.png")
        page.goto(f"{base}/offers/")
        page.screenshot(path=DOCS / "offers-phone-nl.png", full_page=True)
        page.close()
        # Emma (100003, English): a consent expired, so her new choice and its buttons come
        # first. Lucas (100004): the income text changes soon; his card says when, with the
        # new text.
        page = browser.new_page(viewport=phone, locale="nl-NL", device_scale_factor=1)
        log_in(page, base, "100003")
        page.screenshot(path=DOCS / "choose-again-phone-en.png")
        page.close()
        page = browser.new_page(viewport=phone, locale="nl-NL", device_scale_factor=1)
        log_in(page, base, "100004")
        card = page.locator("#purpose-offers_income")
        card.locator("details").first.evaluate("details => details.open = true")
        card.screenshot(path=DOCS / "coming-text-phone-nl.png")
        page.close()
        # The demo reviewer's queue: the engine's proposals, waiting for a person.
        page = browser.new_page(viewport={"width": 1280, "height": 600}, locale="nl-NL")
        log_in_to_admin(page, base, "reviewer", "/admin/offers/offer/")
        page.screenshot(path=DOCS / "review-queue-nl.png", full_page=True)
        page.close()
        # The demo privacy officer's overview: figures, weekly charts, funnel, Art. 30.
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="nl-NL")
        log_in_to_admin(page, base, "privacy", "/admin/offers/offer/overview/")
        page.screenshot(path=DOCS / "privacy-overview-nl.png", full_page=True)
        page.close()
        staff_screenshots(browser, base)
        browser.close()


STAFF_VIEWPORT = {"width": 1280, "height": 800}


def staff_screenshots(browser, base):
    """The staff pages, at 1280 px. Read-only: the publishing walk stops at
    the second confirmation, and acting for a customer only opens the form."""
    # A reviewer's detail page: the buttons, and the offer's history.
    page = browser.new_page(viewport=STAFF_VIEWPORT, locale="nl-NL")
    log_in_to_admin(page, base, "reviewer", "/admin/offers/offer/")
    page.locator("#result_list tbody tr a").first.click()
    page.screenshot(path=DOCS / "review-detail-nl.png", full_page=True)
    page.close()
    # The contact centre: a customer by number, acting for them, the follow-up list.
    page = browser.new_page(viewport=STAFF_VIEWPORT, locale="nl-NL")
    log_in_to_admin(page, base, "klantenservice", "/admin/consent/customer/")
    page.locator("#searchbar").fill("100001")
    page.locator("#searchbar").press("Enter")
    page.wait_for_url("**/admin/consent/customer/100001/change/")
    page.screenshot(path=DOCS / "customer-view-nl.png", full_page=True)
    page.goto(f"{base}/admin/consent/customer/100002/act/grant/?purpose=offers_income")
    page.screenshot(path=DOCS / "act-for-customer-nl.png", full_page=True)
    page.goto(f"{base}/admin/offers/followup/")
    page.screenshot(path=DOCS / "follow-up-list-nl.png", full_page=True)
    page.close()
    # The privacy officer's material version: preview with the comparison, then the
    # second confirmation (not confirmed).
    page = browser.new_page(viewport=STAFF_VIEWPORT, locale="nl-NL")
    log_in_to_admin(page, base, "privacy", "/admin/consent/purpose/")
    page.get_by_role("link", name="Aanbiedingen op basis van waar en hoe u betaalt").click()
    page.get_by_role("link", name="Nieuwe versie van deze tekst").click()
    description = page.locator("#id_description_nl")
    description.fill(description.input_value() + " Wij kijken nu ook naar de naam van de winkel.")
    page.locator("#id_material").check()
    page.locator("#preview").click()
    page.screenshot(path=DOCS / "publish-preview-nl.png", full_page=True)
    page.locator("#publish").click()
    page.screenshot(path=DOCS / "publish-confirm-nl.png", full_page=False)
    page.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
