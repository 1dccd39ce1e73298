"""The API documentation page in a real browser: Swagger UI renders every operation from
our static files, with no CSP violation and no script error."""

import os
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from tests.browser.conftest import CHROMIUM_ARGS, ConsoleWatch, chromium_path

pytestmark = pytest.mark.browser
SCHEMA = yaml.safe_load((Path(settings.BASE_DIR) / "docs" / "openapi.yaml").read_text())
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def chromium():
    """A browser of this module's own, closed before tests/browser starts its one."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI=true and Chromium not found (apt-get install chromium)")
        pytest.skip("Chromium not found; install it with: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=path, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


def test_the_documentation_page_shows_every_operation_under_the_strict_csp(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    console = ConsoleWatch(page)
    page.goto("/api/v1/docs/")
    page.locator(".opblock").first.wait_for()
    operations = page.locator(".opblock").count()
    consent_changes = page.get_by_text("/api/v1/consent-changes", exact=True).count()
    context.close()
    # Every operation, and every webhook (OpenAPI 3.1 `webhooks:`, shown as one too).
    assert operations == sum(
        len(ops) for ops in [*SCHEMA["paths"].values(), *SCHEMA["webhooks"].values()]
    )
    assert consent_changes == 1
    assert console.errors == []
