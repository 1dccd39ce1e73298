"""The API documentation page in a real browser: Swagger UI renders every operation from
our static files, with no CSP violation and no script error (the `page` fixture checks)."""

import pytest

from tests.browser.conftest import browser, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def test_the_documentation_page_shows_every_operation_under_the_strict_csp(page):  # noqa: F811
    page.goto("/api/v1/docs/")
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() == 12
    assert page.get_by_text("/api/v1/consent-changes", exact=True).count() == 1
