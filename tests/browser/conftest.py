"""Browser tests: Playwright for Python driving Debian's Chromium against `live_server`.

Without Chromium the tests skip with the reason shown; under CI=true a missing browser
fails instead, so CI can never pass by silently testing nothing.
"""

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from pytest_django.plugin import blocking_manager_key

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


# --- The catalogue survives live_server's flush ---------------------------------------
# live_server needs a transactional database, which pytest-django empties after each
# test; that would also delete the purpose catalogue the data migrations created, for
# every later test. So the rows are snapshotted once and put back after each flush.
_snapshot: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _snapshot_migrated_data(django_db_setup, django_db_blocker):
    if "data" not in _snapshot:
        with django_db_blocker.unblock():
            _snapshot["data"] = connection.creation.serialize_db_to_string()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # With no next test the session (and its test database) may be gone already.
    needed = nextitem is not None and "live_server" in getattr(item, "fixturenames", ())
    if needed and "data" in _snapshot:
        with item.config.stash[blocking_manager_key].unblock():
            # The flush re-created content types and permissions under new ids; put the
            # original ones back so that rows pointing at them (groups) stay right. The
            # other tables are empty, so deserialising only inserts, which the
            # append-only triggers allow.
            ContentType.objects.all().delete()
            ContentType.objects.clear_cache()
            connection.creation.deserialize_db_from_string(_snapshot["data"])
    return result


# --- Pages -------------------------------------------------------------------------------
class ConsoleWatch:
    """Console errors of a page; CSP violations are reported there by Chromium."""

    def __init__(self, page):
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))

    def _on_console(self, message):
        if message.type == "error":
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


def log_in(page, username, password=PASSWORD):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(password)
    page.locator(".login-form [type=submit]").click()
    wait_for_dashboard(page)


def wait_for_dashboard(page):
    page.wait_for_url(lambda url: urlsplit(url).path == "/")
