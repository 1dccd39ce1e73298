"""The whole way of an offer, in a real browser: a reviewer approves it in the admin; the
customer finds it on `/offers/`, reads why, and says "not interested"."""

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from playwright.sync_api import expect

from offers.models import Offer
from tests.browser.conftest import PASSWORD, log_in
from tests.browser.test_accessibility import serious_violations
from tests.factories import UserFactory
from tests.offers.factories import make_offer

pytestmark = pytest.mark.browser


@pytest.fixture
def proposed(shopper, choose):
    """The engine proposed world-wide cover to the shopper, who switched on offers based
    on where they pay yesterday."""
    choose(shopper, "offers_spending", at=timezone.now() - dt.timedelta(days=1))
    return make_offer(shopper)


@pytest.fixture
def rik(transactional_db):
    user = UserFactory(username="rik", is_staff=True)
    user.groups.set([Group.objects.get(name="Offer reviewers")])
    return user


def test_a_reviewer_approves_and_the_customer_reads_why_and_dismisses(page, shopper, proposed, rik):
    # The reviewer works the queue in the admin.
    page.goto("/admin/login/?next=/admin/offers/offer/")
    page.locator("#id_username").fill("rik")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/offers/offer/")
    page.locator(f"input[name=_selected_action][value='{proposed.pk}']").check()
    page.locator("select[name=action]").select_option("approve_selected")
    page.locator("button[name=index]").click()
    expect(page.locator(".messagelist")).to_contain_text("1 aanbod goedgekeurd.")
    offer = Offer.objects.get()
    assert (offer.status, offer.reviewed_by_id) == ("approved", rik.pk)

    # The customer logs in and opens the offers page from the menu.
    page.context.clear_cookies()
    log_in(page, shopper.customer_number)
    page.get_by_role("link", name="Mijn aanbiedingen").first.click()
    page.wait_for_url("**/offers/")
    card = page.locator(f"#offer-{offer.pk}")
    expect(card.get_by_role("heading")).to_have_text("Reisverzekering wereld")
    explanation = card.get_by_text("betaalde onlangs met uw pas buiten Europa", exact=False)
    expect(explanation).to_be_hidden()
    card.get_by_text("Waarom zie ik dit?").click()
    expect(explanation).to_be_visible()
    expect(card.get_by_text("2 kaartbetalingen in de Verenigde Staten")).to_be_visible()
    expect(card.get_by_role("link", name="Deze keuze wijzigen")).to_have_attribute(
        "href", "/#purpose-offers_spending"
    )

    card.get_by_role("button", name="Niet geïnteresseerd").click()
    expect(card).to_contain_text("minstens 180 dagen niet opnieuw")
    expect(page.locator("#announcer")).to_contain_text("minstens 180 dagen")
    assert page.evaluate("typeof htmx") == "object"  # it was a swap, not a new page
    assert Offer.objects.get().status == "dismissed"
    page.reload()
    expect(page.locator("#no-offers")).to_be_visible()


@pytest.mark.parametrize("language", ["nl", "en"])
def test_axe_finds_nothing_serious_on_the_offers_page(page, shopper, proposed, language):
    Offer.objects.update(status="approved")
    page.goto("/accounts/login/")
    if language == "en":
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
    log_in(page, shopper.customer_number)
    page.goto("/offers/")
    expect(page.locator(f"#offer-{proposed.pk}")).to_be_visible()
    assert serious_violations(page) == []
    page.locator(f"#offer-{proposed.pk} summary").click()
    assert serious_violations(page) == []
    page.locator(f"#interested-{proposed.pk}").click()
    expect(page.locator(f"#offer-{proposed.pk}")).to_have_class("offer-card answered")
    assert serious_violations(page) == []


def test_the_privacy_overview_draws_its_charts_within_the_csp(page, shopper, proposed):
    officer = UserFactory(username="petra", is_staff=True)
    officer.groups.set([Group.objects.get(name="Privacy officers")])
    page.goto("/admin/login/?next=/admin/")
    page.locator("#id_username").fill("petra")
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.get_by_role("link", name="Privacyoverzicht").click()
    page.wait_for_url("**/admin/offers/offer/overview/")
    # One weekly chart per consent: three offers purposes, three contact channels.
    expect(page.locator("svg.chart")).to_have_count(6)
    assert page.locator("svg.chart").first.bounding_box()["width"] > 300
    expect(page.locator("#funnel-travel_insurance_world .proposed")).to_have_text("1")
    # The page fixture fails the test on any CSP violation or script error.
    assert page.console.csp_errors == []
