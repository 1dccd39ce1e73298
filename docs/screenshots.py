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
        # The demo reviewer's queue: the engine's proposals, waiting for a person.
        page = browser.new_page(viewport={"width": 1700, "height": 600}, locale="nl-NL")
        log_in_to_admin(page, base, "reviewer", "/admin/offers/offer/")
        page.screenshot(path=DOCS / "review-queue-nl.png", full_page=True)
        page.close()
        # The demo privacy officer's overview: figures, weekly charts, funnel, Art. 30.
        page = browser.new_page(viewport={"width": 1400, "height": 900}, locale="nl-NL")
        log_in_to_admin(page, base, "privacy", "/admin/offers/offer/overview/")
        page.screenshot(path=DOCS / "privacy-overview-nl.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
