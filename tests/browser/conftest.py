"""Browser tests: Playwright for Python driving Debian's Chromium against `live_server`.

Without Chromium the tests skip with the reason shown; under CI=true a missing browser
fails instead, so CI can never pass by silently testing nothing.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from ledger.models import ConsentEvent
from tests.factories import CustomerFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery"


def chromium_path() -> str | None:
    """Debian's Chromium, or the one env CHROMIUM names (then that one only)."""
    if "CHROMIUM" in os.environ:
        candidates = [os.environ["CHROMIUM"]]
    else:
        candidates = ["/usr/bin/chromium", shutil.which("chromium")]
    return next((c for c in candidates if c and Path(c).is_file()), None)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        message = (
            "Chromium not found (/usr/bin/chromium); install it with: apt-get install chromium"
        )
        if os.environ.get("CI"):
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# --- Pages -------------------------------------------------------------------------------
class ConsoleWatch:
    """Console errors of a page; CSP violations are reported there by Chromium."""

    def __init__(self, page):
        self.errors: list[str] = []
        self.allowed: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def allow(self, text: str):
        """A console error the test causes on purpose (e.g. a refused choice's 409)."""
        self.allowed.append(text)

    def _on_console(self, message):
        if message.type == "error" and not any(a in message.text for a in self.allowed):
            self.errors.append(message.text)

    @property
    def csp_errors(self) -> list[str]:
        return [e for e in self.errors if "Content Security Policy" in e or "Refused to" in e]


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="nl-NL")
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.console = ConsoleWatch(page)
    yield page
    errors = page.console.errors
    context.close()
    # Every browser test also checks: no CSP violation and no script error on any page.
    assert errors == [], errors


@pytest.fixture
def shopper(transactional_db):
    """A customer with one consent (offers based on where they pay) and a login."""
    return CustomerFactory(customer_number="600001", first_name="Sanne", last_name="de Vries")


def linked_app(customer):
    """The customer's open link to an app, as the token endpoint makes it."""
    from django.utils import timezone
    from oauth2_provider.models import Application

    from api.linked_apps import record_authorisation
    from api.models import LinkedApp

    link = LinkedApp.objects.filter(customer=customer, revoked_at__isnull=True).first()
    if link is not None:
        return link
    application = Application.objects.create(
        name="Budgetcoach",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="nl.voorbeeldbank.app:/oauth/callback",
        algorithm="",
    )
    record_authorisation(
        customer_id=customer.pk,
        application_id=application.pk,
        scope="consent:read consent:choose",
        at=timezone.now(),
    )
    return LinkedApp.objects.get(customer=customer, revoked_at__isnull=True)


def log_in(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator(".login-form [type=submit]").click()
    wait_for_dashboard(page)


def wait_for_dashboard(page):
    page.wait_for_url(lambda url: urlsplit(url).path == "/")


def customer_pages(customer):
    """Every page a customer can reach, with content on it (the receipt: of their first
    choice; the linked apps: an app they let in, made here if they have none)."""
    event = ConsentEvent.objects.filter(customer=customer).earliest("sequence")
    link = linked_app(customer)
    return [
        "/",
        "/offers/",
        "/offers/data-use/",
        "/history/",
        f"/history/{event.pk}/receipt/",
        "/export/",
        "/export/read/",
        "/erasure/",
        "/apps/",
        f"/apps/{link.pk}/revoke/",
        "/settings/language/",
        "/purposes/offers_spending/v1/",
    ]
