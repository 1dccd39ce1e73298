"""The readable export, the data-use log and the erasure page as a customer reads them
(and the contact centre's counterpart), in Chromium at 320 and 390 px, Dutch and English.

Everything a page shows was produced by the real code: the demo data (`load_demo`), the
offers engine (`generate_offers`), the staff's and the customer's own actions, erasure
(`request_erasure`). The setup runs on a frozen clock (2 November 2026, 10:30 in
Amsterdam, a winter hour: UTC+1), so dates and hours on the pages are known; the browser
then runs on the machine's clock (browser tests do: tests/conftest.py)."""

import datetime as dt
import io
import json
import re

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from consent.demo import DEMO_PASSWORD
from consent.models import Customer
from ledger.models import Action, Channel, ConsentEvent
from lifecycle.erasure import request_erasure
from offers.models import Offer
from tests.browser.conftest import wait_for_dashboard
from tests.export_story import CALL_NOTE, CALLS_NOTE, PHONE, STAFF_NOTE, called_back_story

pytestmark = pytest.mark.browser

# The setup's clock: a winter hour in Amsterdam (UTC+1), so a local time and a UTC time
# differ on the page.
SETUP_AT = timezone.make_aware(dt.datetime(2026, 11, 2, 10, 30))
PHONES = ({"width": 320, "height": 640}, {"width": 390, "height": 844})
LANGUAGES = ("nl", "en")
# How each language writes the setup's moment, as the history page shows it.
SETUP_MOMENT = {"nl": "2 november 2026, 10:31", "en": "2 November 2026, 10:31"}
SETUP_DAY = {"nl": "2 november 2026", "en": "2 November 2026"}


def at(minutes: int = 0) -> dt.datetime:
    return SETUP_AT + dt.timedelta(minutes=minutes)


@pytest.fixture
def demo(transactional_db):
    """The demo customers and staff, and one engine run, on the setup's clock."""
    with time_machine.travel(at(), tick=False):
        call_command("load_demo", stdout=io.StringIO())
    with time_machine.travel(at(1), tick=False):
        call_command("generate_offers", stdout=io.StringIO())


def customer(number: str, language: str) -> Customer:
    Customer.objects.filter(customer_number=number).update(language=language)
    return Customer.objects.get(customer_number=number)


def log_in(page, number: str):
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(number)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator(".login-form [type=submit]").click()
    wait_for_dashboard(page)


def main_text(page) -> str:
    return page.locator("main").inner_text()


def no_sideways_scroll(page) -> bool:
    """Nothing of the page's own content reaches past the screen's right edge (what is
    only for screen readers aside). The header is the site layout's, tested with it:
    tests/browser/test_phone.py."""
    return page.evaluate(
        """() => {
            const w = document.documentElement.clientWidth;
            const main = document.querySelector('main');
            return main.scrollWidth <= main.clientWidth + 1 && [...main.querySelectorAll('*')]
                .filter(e => !e.closest('.visually-hidden, .stack-narrow thead'))
                .every(e => e.getBoundingClientRect().right <= w + 0.5);
        }"""
    )


# --- 7. The readable export is readable -------------------------------------------------
def payments_fit(page) -> dict:
    """The payments table against its box: its width, the box's, and whether every cell
    of every row is on the screen (nothing hidden behind a sideways scroll)."""
    return page.locator(".data-table-wrap").evaluate(
        """wrap => {
            const table = wrap.querySelector('table');
            const screen = document.documentElement.clientWidth;
            const cells = [...table.querySelectorAll('tbody td')];
            return {
                table: Math.round(table.getBoundingClientRect().width),
                box: wrap.clientWidth,
                scroll: wrap.scrollWidth,
                cut: cells.filter(c => {
                    const r = c.getBoundingClientRect();
                    return r.width === 0 || r.left < 0 || r.right > screen + 0.5;
                }).length,
            };
        }"""
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_readable_export_reads_like_the_history_in_the_customers_language(page, demo, language):
    customer("100001", language)
    log_in(page, "100001")
    for size in PHONES:
        page.set_viewport_size(size)
        page.goto("/history/")
        history_times = page.locator(".events time").all_inner_texts()
        assert history_times
        page.goto("/export/read/")
        text = main_text(page)
        # The same moments as the history shows them: local time, the language's words.
        exported_times = page.locator("#history + ul time").all_inner_texts()
        assert sorted(exported_times) == sorted(history_times)
        # The engine's read (10:31 in Amsterdam, 09:31 UTC) as the data-use page shows it.
        assert f"{SETUP_MOMENT[language]}" in text
        # No machine formats: no ISO timestamps or dates, no codes, no "EUR 4200.00".
        assert not re.search(r"\d{4}-\d{2}-\d{2}", text), text
        for code in ("EUR", "checking", "travel_insurance", "offers_spending", "_"):
            assert code not in text, code
        # Products and accounts by name, amounts as the language writes them.
        if language == "nl":
            assert "Betaalrekening NL50 DEMO" in text
            assert "€ 4.200,00" in text
            assert re.search(r"€ -\d+,\d\d", text)
            assert "Reisverzekering Europa" in text and "Reisverzekering wereld" in text
            assert "14 maart 1988" in text
        else:
            assert "Checking account NL50 DEMO" in text
            assert "€4,200.00" in text
            assert re.search(r"-€\d+\.\d\d", text)
            assert "Travel insurance Europe" in text
            assert "14 March 1988" in text
        # Every payment whole on the screen: no column hidden, nothing sideways.
        fit = payments_fit(page)
        assert fit["scroll"] <= fit["box"] and fit["cut"] == 0, (size, fit)
        assert no_sideways_scroll(page)


# --- 8. Everything the bank holds is in the export ---------------------------------------
@pytest.fixture
def called_back(demo):
    """Sanne (100001) as the contact centre and a reviewer left her: her phone number on
    file, a consent recorded for her by phone, her offer approved, answered "interessant",
    called and closed (tests/export_story.py)."""
    with time_machine.travel(at(5), tick=False):
        return called_back_story("100001", at=at())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_export_holds_the_phone_the_staffs_actions_offer_events_and_calls(
    page, called_back, language
):
    customer("100001", language)
    log_in(page, "100001")
    for size in PHONES:
        page.set_viewport_size(size)
        page.goto("/export/read/")
        text = main_text(page)
        assert PHONE in text
        assert STAFF_NOTE in text
        assert CALL_NOTE in text
        if language == "nl":
            assert "Vastgelegd door een medewerker van de bank, telefonisch." in text
            assert "Uw identiteit is gecontroleerd." in text
            assert "goedgekeurd — beoordeling" in text
            assert "klant neemt het product" in text
        else:
            assert "Recorded by a member of the bank's staff, by phone." in text
            assert "Your identity was checked." in text
            assert "approved — review" in text
            assert "customer takes the product" in text
        assert no_sideways_scroll(page)
    # The download holds the same, in machine formats.
    data = json.loads(page.request.get("/export.json").body())
    assert data["profile"]["phone"] == PHONE
    # Recorded on the phone: offers on income, and (a minute later) calls about offers.
    by_phone, calls = sorted(
        (e for e in data["history"] if e["staff_action"]),
        key=lambda e: e["staff_action"]["recorded_at"],
    )
    assert calls["staff_action"]["note"] == CALLS_NOTE
    assert by_phone["staff_action"] == {
        "channel": "phone",
        "identity_checked": True,
        "note": STAFF_NOTE,
        "recorded_at": "2026-11-02T09:35:00+00:00",
    }
    (offer,) = data["offers"]
    assert [(e["kind"], e["to"], e["cause"]) for e in offer["events"]] == [
        ("status", "proposed", "engine"),
        ("status", "approved", "review"),
        ("status", "accepted", "customer_answer"),
        ("follow_up", "open", "customer_answer"),
        ("follow_up", "called", "follow_up"),
        ("follow_up", "closed", "follow_up"),
    ]
    assert offer["events"][4]["reason"] == CALL_NOTE
    assert offer["follow_up"]["outcome"] == "taken"


# --- 9. After an erasure, the pages say what happened and when --------------------------
@pytest.fixture
def erased(demo):
    """Lucas (100004) had an offer and a data-use log, and asked to erase them."""
    lucas = Customer.objects.get(customer_number="100004")
    assert Offer.objects.filter(customer=lucas).exists()
    with time_machine.travel(at(30), tick=False):
        request_erasure(customer=lucas, channel=Channel.WEB, actor=lucas.user, at=at(30))
    assert not Offer.objects.filter(customer=lucas).exists()
    return lucas


ERASED_SENTENCE = {
    "nl": "Op 2 november 2026 heeft u ons gevraagd te wissen wat wij voor aanbiedingen over"
    " u maakten",
    "en": "On 2 November 2026 you asked us to erase what we made about you for offers",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_an_erasure_the_customer_reads_what_was_erased_and_when(page, erased, language):
    customer("100004", language)
    log_in(page, "100004")
    for size in PHONES:
        page.set_viewport_size(size)
        page.goto("/offers/data-use/")
        text = main_text(page)
        assert ERASED_SENTENCE[language] in text
        assert "nog niet gebruikt" not in text and "not used your data for offers yet" not in text
        page.goto("/erasure/")
        text = main_text(page)
        assert ERASED_SENTENCE[language] in text
        # Nothing is offered for erasure: no "0 aanbiedingen", no button.
        assert not re.search(r"\b0 (aanbieding|offer|regel|line)", text), text
        expect(page.locator("form.erasure-confirm")).to_have_count(0)
        assert no_sideways_scroll(page)


def test_a_post_when_there_is_nothing_to_erase_records_nothing(page, erased):
    log_in(page, "100004")
    page.goto("/erasure/")
    token = page.locator("[name=csrfmiddlewaretoken]").first
    assert token.count() == 1  # the language switch's form carries one
    response = page.request.post(
        "/erasure/",
        form={"csrfmiddlewaretoken": token.get_attribute("value")},
        headers={"Referer": page.url},
    )
    assert response.status == 200
    assert (
        ConsentEvent.objects.filter(customer=erased, action=Action.ERASURE_REQUESTED).count() == 1
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_after_an_erasure_the_contact_centre_reads_it_too(page, live_server, erased, language):
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    page.goto("/admin/login/?next=/admin/consent/customer/")
    page.locator("#id_username").fill("klantenservice")
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("#login-form [type=submit]").click()
    page.wait_for_url("**/admin/consent/customer/**")
    for size in PHONES:
        page.set_viewport_size(size)
        page.locator("#searchbar").fill("100004")
        page.locator("#searchbar").press("Enter")
        section = page.locator(".customer-offers")
        text = section.inner_text()
        if language == "nl":
            assert "Op 2 november 2026 vroeg de klant te wissen" in text
            assert "nooit een aanbod" not in text
        else:
            assert "On 2 November 2026 the customer asked us to erase" in text
            assert "never had an offer" not in text.lower()
        page.goto("/admin/consent/customer/")


# --- 10. One coherent outcome per read ---------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_a_read_that_finds_the_existing_offer_says_it_stayed(page, demo, language):
    # A second run: the rule fits Lucas again, the contact policy proposes nothing twice.
    with time_machine.travel(at(2), tick=False):
        call_command("generate_offers", stdout=io.StringIO())
    customer("100004", language)
    log_in(page, "100004")
    for size in PHONES:
        page.set_viewport_size(size)
        page.goto("/offers/data-use/")
        outcomes = page.locator(".use .outcome").all_inner_texts()
        assert len(outcomes) == 2
        if language == "nl":
            assert outcomes == [
                "Uitkomst: geen nieuwe aanbieding; uw bestaande aanbieding (Studentenrekening)"
                " bleef staan",
                "Uitkomst: aanbieding voorgesteld (Studentenrekening)",
            ]
            assert "niets gevonden" not in main_text(page)
        else:
            assert outcomes == [
                "Outcome: no new offer; your existing offer (Student account) stayed",
                "Outcome: offer proposed (Student account)",
            ]
            assert "nothing found" not in main_text(page).lower()
        assert no_sideways_scroll(page)
        # The readable export says the same.
        page.goto("/export/read/")
        assert page.locator("#data-use + ul .outcome").all_inner_texts() == outcomes


def test_the_pages_need_no_javascript(browser, live_server, erased):
    """The erasure, data-use and export pages are whole without JavaScript."""
    context = browser.new_context(
        base_url=live_server.url, locale="nl-NL", java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.set_viewport_size(PHONES[0])
        log_in(page, "100004")
        page.goto("/offers/data-use/")
        assert ERASED_SENTENCE["nl"] in main_text(page)
        page.goto("/erasure/")
        assert "Er is nu niets te verwijderen." in main_text(page)
        page.goto("/export/read/")
        fit = payments_fit(page)
        assert fit["scroll"] <= fit["box"] and fit["cut"] == 0, fit
    finally:
        context.close()
