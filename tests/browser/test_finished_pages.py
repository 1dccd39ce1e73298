"""The customer's pages as a bank would ship them, in a real browser, on phones (320 and
390 px wide) in Dutch and English: no template syntax read out, nothing wider than the
screen, the language choice sticks, a failure looks like one, what needs a choice is on
the first screen, targets a thumb can hit, plain words, and one wording for staff."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import Customer
from ledger.models import Action, ConsentEvent
from tests.browser.conftest import PASSWORD, customer_pages, log_in
from tests.browser.test_staff import log_in_to_admin, staff
from tests.factories import CustomerFactory
from tests.offers.factories import make_offer

pytestmark = pytest.mark.browser

PHONES = {320: {"width": 320, "height": 640}, 390: {"width": 390, "height": 844}}
SIZES_AND_LANGUAGES = [(w, lang) for w in PHONES for lang in ("nl", "en")]
DANGER = "rgb(164, 0, 15)"  # --danger in site.css
OK = "rgb(29, 107, 44)"  # --ok
TEMPLATE_SYNTAX = ("{#", "#}", "{%", "{{")


def in_language(page, language):
    """Switch with the header's button, as a customer does, unless already there."""
    if page.locator("html").get_attribute("lang") != language:
        page.locator(".language-switch button").click()
        expect(page.locator("html")).to_have_attribute("lang", language)


@pytest.fixture
def busy_shopper(shopper, choose):
    """Sanne: two choices, an approved offer, so every page has content."""
    now = timezone.now()
    choose(shopper, "offers_spending", at=now)
    choose(shopper, "offers_income", at=now)
    make_offer(shopper, status="approved")
    return shopper


@pytest.fixture
def expired_shopper(shopper, choose):
    """Sanne's consent for offers on her balance ran out, so she is asked again; offers on
    where she pays are on (as for the demo's customer 100003)."""
    days = settings.CONSENT_MAX_AGE_DAYS + 5
    choose(shopper, "offers_balance", at=timezone.now() - dt.timedelta(days=days))
    choose(shopper, "offers_spending", at=timezone.now())
    return shopper


@pytest.fixture
def new_page(browser, live_server):
    """More pages, each in its own browser (own cookies), e.g. without JavaScript."""
    contexts = []

    def make(*, javascript=True, size=390):
        context = browser.new_context(
            base_url=live_server.url,
            locale="nl-NL",
            viewport=PHONES[size],
            java_script_enabled=javascript,
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        return page

    yield make
    for context in contexts:
        context.close()


# --- 1. No developer text ------------------------------------------------------------------
def assert_no_template_syntax(page, url):
    html = page.content()
    found = [token for token in TEMPLATE_SYNTAX if token in html]
    assert found == [], f"{url} shows template syntax {found}"


def test_no_page_shows_template_syntax(page, busy_shopper, transactional_db):
    page.console.allow("404 (Not Found)")
    page.console.allow("405 (Method Not Allowed)")
    page.console.allow("403 (Forbidden)")
    page.goto("/accounts/login/")
    assert_no_template_syntax(page, "/accounts/login/")
    log_in(page, busy_shopper.customer_number)
    for language in ("nl", "en"):
        in_language(page, language)
        for url in [*customer_pages(busy_shopper), "/no-such-page/"]:
            page.goto(url)
            assert_no_template_syntax(page, url)
        # 405: a method the page does not answer; 403: a form sent without its token.
        token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
        response = page.request.put("/history/", headers={"X-CSRFToken": token})
        assert response.status == 405, response.status
        assert [t for t in TEMPLATE_SYNTAX if t in response.text()] == []
        response = page.request.post("/choices/stop-all/")
        assert response.status == 403, response.status
        assert [t for t in TEMPLATE_SYNTAX if t in response.text()] == []
    # The staff's pages that a contact-centre member reaches.
    staff("karim", "Klantenservice")
    page.context.clear_cookies()
    log_in_to_admin(page, "karim", "/admin/")
    for url in (
        "/admin/",
        "/admin/consent/customer/",
        f"/admin/consent/customer/?q={busy_shopper.customer_number}",
        f"/admin/consent/customer/{busy_shopper.customer_number}/change/",
        "/admin/offers/followup/",
    ):
        page.goto(url)
        assert_no_template_syntax(page, url)
    page.goto(f"/admin/consent/customer/{busy_shopper.customer_number}/change/")
    page.locator("#purpose-offers_balance").get_by_role("link", name="Aanzetten…").click()
    page.wait_for_url("**/act/**")
    assert_no_template_syntax(page, page.url)


def test_no_template_comment_spans_lines():
    """Django's {# #} is one line only: a comment over two lines is shown as text."""
    from pathlib import Path

    root = Path(settings.BASE_DIR) / "templates"
    for template in root.rglob("*.html"):
        for number, line in enumerate(template.read_text().splitlines(), 1):
            opened, closed = line.count("{#"), line.count("#}")
            assert opened == closed, f"{template.relative_to(root)}:{number}: {line.strip()}"


# --- 2. Nothing wider than the screen --------------------------------------------------------
@pytest.mark.parametrize("width", PHONES)
def test_every_page_fits_a_phone_in_both_languages(page, busy_shopper, width):
    page.console.allow("404 (Not Found)")
    page.set_viewport_size(PHONES[width])
    log_in(page, busy_shopper.customer_number)
    for language in ("nl", "en"):
        in_language(page, language)
        for url in [*customer_pages(busy_shopper), "/no-such-page/"]:
            page.goto(url)
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{url} in {language} is {wide} px wide"
            switch = page.locator(".language-switch button").bounding_box()
            assert switch["x"] >= 0 and switch["x"] + switch["width"] <= width, (url, switch)
        page.goto("/")
        page.locator(".menu > summary").click()
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    page.context.clear_cookies()
    page.goto("/accounts/login/")
    in_language(page, "en")
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# --- 3. The language sticks -------------------------------------------------------------------
@pytest.mark.parametrize("width, chosen", SIZES_AND_LANGUAGES)
def test_the_language_chosen_on_the_login_page_carries_into_the_session(
    page, shopper, width, chosen
):
    other = "nl" if chosen == "en" else "en"
    Customer.objects.filter(pk=shopper.pk).update(language=other)
    page.set_viewport_size(PHONES[width])
    page.goto("/accounts/login/")
    in_language(page, other)
    in_language(page, chosen)  # the customer's own choice, on this screen
    page.locator("#id_username").fill(shopper.customer_number)
    page.locator("#id_password").fill(PASSWORD)
    page.locator(".login-form [type=submit]").click()
    page.wait_for_url("**/")
    expect(page.locator("html")).to_have_attribute("lang", chosen)
    page.goto("/history/")
    expect(page.locator("html")).to_have_attribute("lang", chosen)
    assert Customer.objects.get(pk=shopper.pk).language == chosen


@pytest.mark.parametrize("width, chosen", SIZES_AND_LANGUAGES)
def test_switching_on_the_site_is_stored_and_used_at_the_next_login(
    page, new_page, shopper, width, chosen
):
    other = "nl" if chosen == "en" else "en"
    Customer.objects.filter(pk=shopper.pk).update(language=other)
    page.set_viewport_size(PHONES[width])
    log_in(page, shopper.customer_number)
    expect(page.locator("html")).to_have_attribute("lang", other)
    in_language(page, chosen)
    assert Customer.objects.get(pk=shopper.pk).language == chosen

    # Another device, no cookie: the stored language.
    elsewhere = new_page(size=width)
    log_in(elsewhere, shopper.customer_number)
    expect(elsewhere.locator("html")).to_have_attribute("lang", chosen)


@pytest.mark.parametrize("width, chosen", SIZES_AND_LANGUAGES)
def test_the_language_setting_shows_and_changes_the_stored_language(
    new_page, shopper, width, chosen
):
    other = "nl" if chosen == "en" else "en"
    Customer.objects.filter(pk=shopper.pk).update(language=other)
    page = new_page(javascript=False, size=width)  # a plain form
    log_in(page, shopper.customer_number)
    page.locator(".menu > summary").click()
    page.locator(".menu-body").get_by_role(
        "link", name="Language" if other == "en" else "Taal"
    ).click()
    expect(page.locator(f"#language-{other}")).to_be_checked()
    page.locator(f"#language-{chosen}").check()
    page.locator("#save-language").click()
    expect(page.locator("html")).to_have_attribute("lang", chosen)
    expect(page.locator(f"#language-{chosen}")).to_be_checked()
    expect(page.locator(".message.success")).to_be_visible()
    assert Customer.objects.get(pk=shopper.pk).language == chosen
    assert page.evaluate("document.documentElement.scrollWidth") <= width


# --- 4. A failure looks like a failure ---------------------------------------------------------
def looks(locator):
    return locator.evaluate(
        """e => ({
            border: getComputedStyle(e).borderLeftColor,
            icon: getComputedStyle(e.matches('p') ? e : e.querySelector('p'), '::before').content,
        })"""
    )


@pytest.mark.parametrize("width, language", SIZES_AND_LANGUAGES)
def test_a_choice_lost_to_an_ended_session_looks_like_a_failure(new_page, shopper, width, language):
    page = new_page(javascript=False, size=width)
    page.goto("/accounts/login/")
    in_language(page, language)
    log_in(page, shopper.customer_number)
    Customer.objects.filter(pk=shopper.pk).update(language=language)
    page.context.clear_cookies(name="sessionid")  # the session ended in the meantime
    page.locator("#switch-offers_income").click()

    page.wait_for_url("**/accounts/login/**")
    warning = page.locator(".message.warning")
    expect(warning).to_contain_text("NIET opgeslagen" if language == "nl" else "NOT saved")
    warned = looks(warning)
    assert warned["border"] == DANGER and "✗" in warned["icon"]

    page.locator("#id_username").fill(shopper.customer_number)
    page.locator("#id_password").fill(PASSWORD)
    page.locator(".login-form [type=submit]").click()
    in_card = page.locator("#purpose-offers_income .card-result")
    expect(in_card).to_contain_text("NIET opgeslagen" if language == "nl" else "NOT saved")
    assert looks(in_card) == warned
    assert not ConsentEvent.objects.filter(customer=shopper).exists()

    # Success, for comparison: green with a tick.
    page.locator("#switch-offers_income").click()
    done = page.locator("#purpose-offers_income .card-result")
    expect(done).to_contain_text("toestemming" if language == "nl" else "consent")
    assert looks(done)["border"] == OK and "✓" in looks(done)["icon"]


@pytest.mark.parametrize("width, language", SIZES_AND_LANGUAGES)
def test_a_choice_the_bank_did_not_save_looks_like_a_failure(page, shopper, width, language):
    page.console.allow("500 (Internal Server Error)")
    page.console.allow("Response Status Error Code 500")
    page.set_viewport_size(PHONES[width])
    log_in(page, shopper.customer_number)
    in_language(page, language)
    page.route("**/choices/offers_income/", lambda route: route.fulfill(status=500, body=""))
    page.locator("#switch-offers_income").click()
    failure = page.locator("#failure-offers_income .not-saved")
    expect(failure).to_contain_text("NIET opgeslagen" if language == "nl" else "NOT saved")
    assert looks(failure)["border"] == DANGER and "✗" in looks(failure)["icon"]
    assert not ConsentEvent.objects.filter(customer=shopper).exists()


# --- 5. What needs a choice is on the first screen ------------------------------------------
@pytest.mark.parametrize("width, language", SIZES_AND_LANGUAGES)
def test_the_choice_asked_again_is_on_the_first_screen(page, expired_shopper, width, language):
    page.set_viewport_size(PHONES[width])
    log_in(page, expired_shopper.customer_number)
    in_language(page, language)
    for action in ("#grant-offers_balance", "#withdraw-offers_balance"):
        box = page.locator(action).bounding_box()
        assert box["y"] + box["height"] <= PHONES[width]["height"], (action, box)
    page.locator("#grant-offers_balance").click()
    expect(page.locator("#switch-offers_balance")).to_have_attribute("aria-checked", "true")
    latest = ConsentEvent.objects.filter(customer=expired_shopper).latest("sequence")
    assert latest.action == Action.GRANTED and latest.purpose.code == "offers_balance"


# --- 6. Targets a thumb can hit ------------------------------------------------------------
@pytest.mark.parametrize("width, language", SIZES_AND_LANGUAGES)
def test_navigation_and_primary_targets_are_44_px_on_a_phone(page, busy_shopper, width, language):
    page.set_viewport_size(PHONES[width])
    log_in(page, busy_shopper.customer_number)
    in_language(page, language)
    page.goto("/history/")
    page.locator(".menu > summary").click()
    targets = [
        ".menu > summary",
        ".menu-body .site-nav a",
        ".menu-body .logout button",
        ".language-switch button",
        ".event-links a",
    ]
    for selector in targets:
        for box in page.locator(selector).evaluate_all(
            "items => items.map(e => e.getBoundingClientRect().toJSON())"
        ):
            assert box["height"] >= 44, (selector, box)
    links = page.locator(".menu-body .site-nav a").first.bounding_box()
    logout = page.locator(".menu-body .logout button").bounding_box()
    assert logout["x"] == links["x"], (logout, links)
    page.goto("/")
    for selector in ("[role=switch]", "#stop-all"):
        assert page.locator(selector).first.bounding_box()["height"] >= 44


# --- 11. Plain words ----------------------------------------------------------------------------
def test_logging_out_says_so_in_both_languages(page, shopper):
    for width, language in SIZES_AND_LANGUAGES:
        page.set_viewport_size(PHONES[width])
        log_in(page, shopper.customer_number)
        in_language(page, language)
        page.locator(".menu > summary").click()
        page.locator(".menu-body .logout button").click()
        page.wait_for_url("**/accounts/login/")
        expect(page.locator(".messages")).to_have_text(
            "U bent uitgelogd." if language == "nl" else "You are logged out."
        )
        in_language(page, "nl")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_lockout_page_gives_a_number_to_call(page, shopper, language):
    page.console.allow("429 (Too Many Requests)")
    page.console.allow("403 (Forbidden)")
    page.set_viewport_size(PHONES[320])
    page.goto("/accounts/login/")
    in_language(page, language)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.locator("#id_username").fill(shopper.customer_number)
        page.locator("#id_password").fill("wrong")
        page.locator(".login-form [type=submit]").click()
        page.wait_for_load_state()
    call = page.locator("#call-us a")
    expect(call).to_have_attribute("href", "tel:+31201234567")
    expect(call).to_have_text("020 123 45 67")
    assert call.bounding_box()["x"] + call.bounding_box()["width"] <= 320


def test_the_customers_pages_use_plain_words(page, busy_shopper):
    never = {
        "nl": ["kost allebei", "Direct marketing betekent", "Waarop dit rust", "0 keuzes"],
        "en": ["both take one click", "we do not, not even", "had been logged out", "rests on"],
    }
    log_in(page, busy_shopper.customer_number)
    for width, language in SIZES_AND_LANGUAGES:
        page.set_viewport_size(PHONES[width])
        in_language(page, language)
        page.goto("/")
        text = page.locator("main").inner_text()
        assert [w for w in never[language] if w in text] == []
        # The receipt: what happened in words; the fingerprints behind "for checking".
        page.goto(customer_pages(busy_shopper)[4])
        visible = page.locator("main").inner_text()
        assert "SHA-256" not in visible and "0000000000" not in visible
        checking = page.locator("#for-checking")
        checking.locator("summary").click()
        expect(checking).to_contain_text("SHA-256")
        expect(checking).to_contain_text(
            "Geen: dit is uw eerste keuze."
            if language == "nl"
            else "None: this is your first choice."
        )
        assert "0" * 64 not in checking.inner_text()
        page.goto("/purposes/offers_spending/v1/")
        assert "SHA-256" not in page.locator("main").inner_text()
        expect(page.locator(".for-checking").first).to_be_visible()


@pytest.mark.parametrize("width, language", SIZES_AND_LANGUAGES)
def test_stopping_everything_with_nothing_on_says_nothing_was_on(
    new_page, shopper, width, language
):
    page = new_page(javascript=False, size=width)
    page.goto("/accounts/login/")
    in_language(page, language)
    log_in(page, shopper.customer_number)
    page.locator("#stop-all").click()
    message = page.locator(".messages")
    expect(message).to_contain_text(
        "Er stond niets aan" if language == "nl" else "Nothing was switched on"
    )
    assert " 0 " not in f" {message.inner_text()} "
    expect(page.locator("#objection-title")).to_have_text(
        "U heeft alle persoonlijke aanbiedingen gestopt"
        if language == "nl"
        else "You have stopped all personal offers"
    )


# --- 18. One wording for a choice staff recorded -----------------------------------------------
def test_a_choice_staff_recorded_reads_the_same_everywhere(page, transactional_db):
    customer = CustomerFactory(customer_number="620002", first_name="Noor")
    staff("karim", "Klantenservice")
    log_in_to_admin(page, "karim", "/admin/consent/customer/620002/change/")
    page.locator("#purpose-offers_income").get_by_role("link", name="Aanzetten…").click()
    # The act page says beforehand what the customer will read, in the same words.
    expect(page.locator(".lead")).to_contain_text(
        "“door een medewerker van de bank, telefonisch” of"
        " “door een medewerker van de bank, op een kantoor”"
    )
    page.get_by_label("telefonisch").check()
    page.get_by_label("Ik heb de identiteit van de klant gecontroleerd.").check()
    page.get_by_label("Notitie: wat vroeg de klant?").fill("Belde: wil aanbiedingen op inkomen.")
    page.get_by_role("button", name="Aanzetten namens de klant").click()
    wording = {
        "nl": "door een medewerker van de bank, telefonisch",
        "en": "by a member of the bank's staff, by phone",
    }
    expect(page.locator(".messagelist")).to_contain_text(f"‘{wording['nl']}’")
    event = ConsentEvent.objects.get(customer=customer)

    page.context.clear_cookies()
    log_in(page, "620002")
    for width, language in SIZES_AND_LANGUAGES:
        page.set_viewport_size(PHONES[width])
        in_language(page, language)
        page.goto("/history/")
        expect(page.locator(f"#event-{event.pk} .how")).to_have_text(wording[language])
        page.goto(f"/history/{event.pk}/receipt/")
        expect(page.locator(".proof .how")).to_have_text(wording[language].capitalize())
