import datetime as dt
import html

import pytest
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from consent.models import ConsentState, PurposeVersion
from consent.validity import is_consent_valid, last_valid_day, start_of_day
from tests.factories import CustomerFactory, UserFactory, publish_version
from tests.legacy import legacy_grant
from tests.pages import card_html


def test_anonymous_visitors_are_sent_to_login(client, db):
    response = client.get("/")
    assertRedirects(response, f"{reverse('login')}?next=/", fetch_redirect_response=False)


def test_staff_without_a_customer_record_get_a_page_that_says_so(client, db):
    staff = UserFactory(username="medewerker", is_staff=True)
    client.force_login(staff)
    response = client.get("/")
    assertContains(response, "Deze pagina is voor klanten", status_code=403)


def test_the_dashboard_shows_every_purpose_as_a_card(customer_client):
    response = customer_client.get("/")
    assertContains(response, "<h1>Mijn privacykeuzes</h1>", html=True)
    for code in ("payments", "fraud_prevention", "offers_spending", "offers_income"):
        assertContains(response, f'id="purpose-{code}"')
    # Required purposes say so, and have no switch.
    assertContains(response, "Altijd aan", count=2)
    # The three offers purposes and the three contact channels (consent 0013).
    assertContains(response, 'role="switch"', count=6)
    assertNotContains(response, 'id="switch-payments"')


def test_the_dashboard_promises_data_is_never_sold_or_shared(customer_client):
    assertContains(customer_client.get("/"), "Wij verkopen uw gegevens nooit")


def test_a_granted_purpose_is_on_and_says_since_when(customer_client, customer):
    response = customer_client.get("/")
    # On and counting: what site.js compares a lost answer with.
    assert 'data-stored="grant"' in card_html(response.content.decode(), "offers_spending")
    assertContains(response, 'id="switch-offers_spending" role="switch"\n')
    html = response.content.decode()
    switch = html[html.index('id="switch-offers_spending"') :][:200]
    assert 'aria-checked="true"' in switch
    assertContains(response, "Aan sinds")
    assertContains(response, "tekstversie 1")


def test_a_purpose_never_chosen_is_off(customer_client):
    html = customer_client.get("/").content.decode()
    switch = html[html.index('id="switch-offers_income"') :][:200]
    assert 'aria-checked="false"' in switch
    assert "U heeft hier nog geen keuze over gemaakt" in html


def test_a_material_new_version_asks_for_a_choice_again(customer_client):
    publish_version("offers_spending", material=True)
    response = customer_client.get("/")
    assertContains(response, "Kies opnieuw:")
    assertContains(response, "op een belangrijk punt gewijzigd (nu versie 2)")
    # Two equal buttons, same class: granting and withdrawing weigh the same.
    assertContains(response, 'class="button choice" id="grant-offers_spending"')
    assertContains(response, 'class="button choice" id="withdraw-offers_spending"')
    assertNotContains(response, 'id="switch-offers_spending"')


def test_a_non_material_new_version_keeps_the_switch_on(customer_client):
    publish_version("offers_spending", material=False)
    response = customer_client.get("/")
    assertNotContains(response, "Kies opnieuw:")
    card = card_html(response.content.decode(), "offers_spending")
    assert 'aria-checked="true"' in card and 'data-stored="grant"' in card


@override_settings(CONSENT_MAX_AGE_DAYS=30)
def test_an_expired_consent_asks_for_a_choice_again(client, customer_who_did_not, choose_now):
    choose_now(customer_who_did_not, "offers_balance", days_ago=40)
    client.force_login(customer_who_did_not.user)
    response = client.get("/")
    assertContains(response, "Kies opnieuw:")
    assertContains(response, "hoogstens 30 dagen")


def test_a_grant_from_older_data_under_16_does_not_count_and_is_explained(client, db, now):
    young = CustomerFactory(
        customer_number="300010", birth_date=timezone.localdate() - dt.timedelta(days=15 * 365)
    )
    legacy_grant(young, "offers_spending", at=now)
    client.force_login(young.user)
    response = client.get("/")
    assertContains(response, "Hiervoor moet u 16 jaar of ouder zijn")
    assertNotContains(response, "Kies opnieuw:")
    assertNotContains(response, 'aria-checked="true"')
    card = card_html(response.content.decode(), "offers_spending")
    assert "Hiervoor moet u 16 jaar of ouder zijn" in card and 'id="grant-' not in card


def test_the_dashboard_is_in_english_one_click_away(customer_client):
    response = customer_client.post(
        reverse("set_language"), {"language": "en", "next": "/"}, follow=True
    )
    assertContains(response, '<html lang="en">')
    assertContains(response, "My privacy choices")
    assertContains(response, "Offers based on where and how you pay")
    assertContains(response, "Nederlands")


def test_the_dashboard_is_dutch_by_default(customer_client):
    response = customer_client.get("/")
    assertContains(response, '<html lang="nl">')
    assertContains(response, "Aanbiedingen op basis van waar en hoe u betaalt")


@pytest.mark.parametrize("extra", [0, 20])
def test_the_dashboard_runs_a_constant_number_of_queries(
    client, customer_who_did_not, choose_now, add_purposes, django_assert_num_queries, extra
):
    add_purposes(extra)
    for n in range(extra):
        choose_now(customer_who_did_not, f"extra_{n}")
    choose_now(customer_who_did_not, "offers_spending")
    client.force_login(customer_who_did_not.user)
    # session, user with customer, and one for the cards: the current versions and the
    # customer's states with their validity; and one for other apps' sections
    # (settings.DASHBOARD_SECTIONS: third parties' access).
    with django_assert_num_queries(4):
        response = client.get("/")
    assert response.content.decode().count('id="purpose-') == 8 + extra


def test_the_page_sets_the_security_headers(customer_client):
    response = customer_client.get("/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "no-store" in response["Cache-Control"]


def test_no_template_comment_shows_on_the_page(customer_client):
    """Django's {# #} is one line only: a longer one would be printed on every page."""
    html = customer_client.get("/").content.decode()
    assert "{#" not in html and "#}" not in html and "{%" not in html


def test_no_inline_scripts_or_styles_on_the_dashboard(customer_client):
    html = customer_client.get("/").content.decode()
    assert "style=" not in html and "<style" not in html
    assert "<script>" not in html and " on" + "click=" not in html


@pytest.mark.any_hour
def test_the_card_says_the_last_day_the_consent_counts(customer_client, customer):
    """'Geldig tot en met' is the last valid day, from the validity's own arithmetic."""
    state = ConsentState.objects.get(customer=customer, purpose__code="offers_spending")
    last = last_valid_day(state.changed_at)
    page = customer_client.get("/").content.decode()
    assert f"Geldig tot en met {date_format(last, 'j F Y')};" in page
    assert is_consent_valid(
        customer=customer,
        purpose_code="offers_spending",
        at=start_of_day(last + dt.timedelta(1)) - dt.timedelta(seconds=1),
    )
    assert not is_consent_valid(
        customer=customer, purpose_code="offers_spending", at=start_of_day(last + dt.timedelta(1))
    )


def test_version_1_is_not_presented_as_a_change(client, db):
    page = client.get("/purposes/offers_spending/v1/").content.decode()
    assert "belangrijke wijziging" not in page
    publish_version("offers_spending", material=True)
    assert "belangrijke wijziging" in client.get("/purposes/offers_spending/v2/").content.decode()


def test_the_notice_page_shows_exactly_the_hashed_text(client, db):
    version = PurposeVersion.objects.get(purpose__code="offers_income", version=1)
    page = client.get("/purposes/offers_income/v1/").content.decode()
    assert html.escape(version.notice_text("nl")) in page
    assert version.notice_sha256("nl") in page
    for field in ("retention_nl", "recipients_nl", "controller_nl", "dpo_contact_nl"):
        assert html.escape(getattr(version, field)) in page
