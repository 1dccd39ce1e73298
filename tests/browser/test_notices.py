"""What the customer reads about a notice, in a real browser at phone widths, in Dutch and
English: a text published for later is announced on its card with the real last day of
the consent and the new text; a notice reads in words, the exact text for checking."""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from django.utils.formats import date_format
from playwright.sync_api import expect

from consent.validity import last_valid_day
from tests.browser.conftest import log_in
from tests.factories import CustomerFactory, publish_version, publish_version_for_later

pytestmark = pytest.mark.browser

WIDTHS = (320, 390)
LANGUAGES = ("nl", "en")


def day(moment, language):
    with translation.override(language):
        return date_format(moment, "j F Y")


def fits(page, selector, width):
    """Nothing of `selector` reaches past the screen's right edge or scrolls sideways. (The
    page's header is another part's: in English at 320 px its language button sticks out.)"""
    widest = page.evaluate(
        """([selector]) => Math.max(...[...document.querySelectorAll(
               selector + ', ' + selector + ' *')].map(e => e.getBoundingClientRect().right))""",
        [selector],
    )
    assert widest <= width, f"{selector} reaches {widest} px"


@pytest.fixture
def sanne(transactional_db, choose):
    def make(language):
        customer = CustomerFactory(customer_number="640001", language=language)
        choose(customer, "offers_spending", at=timezone.now() - dt.timedelta(days=100))
        return customer

    return make


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_the_card_says_the_real_last_day_and_shows_the_coming_text(page, sanne, width, language):
    customer = sanne(language)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, customer.customer_number)
    card = page.locator("#purpose-offers_spending")
    two_years = day(last_valid_day(timezone.now() - dt.timedelta(days=100)), language)
    before = card.locator(".since").inner_text()
    assert two_years in before

    change_at = timezone.localtime().replace(hour=9, minute=0, second=0, microsecond=0) + (
        dt.timedelta(days=30)
    )
    publish_version_for_later(
        "offers_spending",
        at=change_at,
        now=timezone.now(),
        description_nl="Wij kijken ook naar uw reisverzekering.",
        description_en="We also look at your travel insurance.",
    )
    page.reload()
    after = card.locator(".since").inner_text()
    assert two_years not in after
    assert day(change_at, language) in after and "09:00" in after
    announced = card.locator(".text-change")
    expect(announced).to_contain_text(
        f"Op {day(change_at, 'nl')} om 09:00 uur verandert deze tekst."
        if language == "nl"
        else f"This text changes on {day(change_at, 'en')} at 09:00."
    )
    new_sentence = (
        "Wij kijken ook naar uw reisverzekering."
        if language == "nl"
        else "We also look at your travel insurance."
    )
    expect(announced.get_by_text(new_sentence)).to_be_hidden()
    announced.locator("summary").click()
    expect(
        announced.locator("ins")
        .filter(has_text="reisverzekering" if language == "nl" else "insurance")
        .first
    ).to_be_visible()
    fits(page, "#purpose-offers_spending", width)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_notice_reads_in_words_with_the_exact_text_for_checking(
    page, transactional_db, width, language
):
    customer = CustomerFactory(customer_number="640002", language=language)
    version = publish_version("payments", material=False)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, customer.customer_number)
    page.goto(f"/purposes/payments/v{version.version}/")
    section = page.locator(f'section.notice[lang="{language}"]')
    shown = section.inner_text()
    assert "P7Y" not in shown and "transactions=" not in shown
    assert not re.search(r"\b[a-z]+_[a-z_]+\b", shown), shown
    period = "7 jaar na het einde" if language == "nl" else "7 years after the customer"
    assert shown.count(period) == 1
    # The months on the dashboard card too.
    exact = section.locator("details.notice-exact")
    expect(exact.locator("pre")).to_be_hidden()
    exact.locator("summary").click()
    expect(exact.locator("pre")).to_contain_text(
        "Bewaarregels (machineleesbaar)"
        if language == "nl"
        else "Retention rules (machine-readable)"
    )
    expect(exact).to_contain_text(version.notice_sha256(language))
    fits(page, "main", width)
    page.goto("/")
    card = page.locator("#purpose-payments")
    card.locator("summary").first.click()
    text = card.inner_text()
    assert "P7Y" not in text and text.count(period) == 1
    fits(page, "#purpose-payments", width)
