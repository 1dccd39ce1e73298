"""The demo's note that staff skip the second factor: on the admin's login page already,
and on every admin page beside, never on top of, the user links, at 1280 px and on a
phone."""

import pytest

from tests.browser.conftest import PASSWORD
from tests.browser.test_staff import staff

pytestmark = pytest.mark.browser

NOTE = ".demo-note"


def box(page, selector):
    return page.locator(selector).first.bounding_box()


def overlap(a, b) -> float:
    """The area two boxes share (0: side by side or one above the other)."""
    width = min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"])
    return max(width, 0) * max(height, 0)


def test_the_admin_login_page_says_the_demo_skips_the_second_factor(page, transactional_db):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/admin/login/")
    note = page.locator(NOTE)
    assert note.is_visible()
    assert "zonder tweede factor" in note.inner_text()
    assert overlap(box(page, NOTE), box(page, "#login-form")) == 0


@pytest.mark.parametrize("viewport", [(1280, 900), (390, 844)], ids=["desktop", "phone"])
def test_the_note_and_the_user_links_do_not_overlap(page, transactional_db, viewport):
    staff("reviewer", "Offer reviewers")
    width, height = viewport
    page.set_viewport_size({"width": width, "height": height})
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill("reviewer")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/")
    note, links = box(page, NOTE), box(page, "#user-tools")
    assert overlap(note, links) == 0, (note, links)
    # A band of its own, below the user links: not squeezed in beside them.
    assert note["y"] >= links["y"] + links["height"], (note, links)
    for selector in ("#user-tools a", "#logout-form button"):
        for element in page.locator(selector).all():
            assert overlap(note, element.bounding_box()) == 0, selector
