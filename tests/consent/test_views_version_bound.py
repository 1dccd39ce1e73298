"""A choice is bound to the text that was on the customer's screen (GDPR Art. 7(1))."""

import datetime as dt

import pytest
from django.utils import timezone
from pytest_django.asserts import assertContains

from consent.models import ConsentState, PurposeVersion
from ledger.models import ConsentEvent
from tests.factories import publish_version
from tests.pages import choice_form

# Around midnight and on the days the clocks change as well: "now" decides the version.
pytestmark = pytest.mark.any_hour

STALE = "De tekst is veranderd; lees hem en kies opnieuw."


def events_of(customer):
    return ConsentEvent.objects.filter(customer=customer).count()


def test_a_grant_records_the_version_and_hash_that_were_on_screen(customer_client, customer):
    form = choice_form(customer_client, "offers_income", "grant")
    customer_client.post("/choices/offers_income/", form)
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert event.purpose_version.version == int(form["version"]) == 1
    assert event.notice_sha256 == form["notice_sha256"]
    assert event.notice_sha256 == event.purpose_version.notice_sha256("nl")


def test_a_grant_on_a_text_replaced_meanwhile_writes_nothing_and_shows_the_new_text(
    customer_client, customer
):
    """The customer read version 1; a material version 2 came out before they clicked."""
    form = choice_form(customer_client, "offers_income", "grant")
    publish_version("offers_income", material=True, title_nl="Nieuwe titel over inkomen")
    before = events_of(customer)

    response = customer_client.post("/choices/offers_income/", form, headers={"HX-Request": "true"})

    assert response.status_code == 409
    assert events_of(customer) == before
    assert not ConsentState.objects.filter(customer=customer, purpose__code="offers_income")
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="purpose-card" id="purpose-offers_income"')
    assert "Nieuwe titel over inkomen" in html and 'name="version" value="2"' in html
    assert html.count(STALE) == 2  # in the card and in the live region


def test_without_javascript_a_stale_grant_answers_409_with_the_dashboard_saying_so(
    customer_client, customer
):
    form = choice_form(customer_client, "offers_income", "grant")
    publish_version("offers_income", material=False)
    before = events_of(customer)
    response = customer_client.post("/choices/offers_income/", form)
    assertContains(response, STALE, status_code=409)
    assertContains(response, "<h1>Mijn privacykeuzes</h1>", status_code=409)
    assert events_of(customer) == before


def test_a_grant_with_a_forged_or_missing_hash_writes_nothing(customer_client, customer):
    before = events_of(customer)
    for forged in (
        {"choice": "grant"},
        {"choice": "grant", "version": "1", "notice_sha256": "0" * 64},
        {"choice": "grant", "version": "99", "notice_sha256": "0" * 64},
        {"choice": "grant", "version": "one", "notice_sha256": ""},
    ):
        response = customer_client.post("/choices/offers_balance/", forged)
        assert response.status_code == 409, forged
    assert events_of(customer) == before


def test_a_grant_on_a_text_published_for_later_is_refused(customer_client, customer):
    """A version prepared for next week is not yet what customers read."""
    later = publish_version("offers_balance", material=True, at=timezone.now() + dt.timedelta(7))
    before = events_of(customer)
    response = customer_client.post(
        "/choices/offers_balance/",
        {"choice": "grant", "version": later.version, "notice_sha256": later.notice_sha256("nl")},
    )
    assert response.status_code == 409
    assert events_of(customer) == before


def test_a_withdrawal_always_succeeds_whatever_text_was_shown(customer_client, customer):
    """Sanne's page shows version 1; a version 2 came out. Her 'off' still counts, and the
    ledger says which text she was looking at."""
    form = choice_form(customer_client, "offers_spending", "withdraw")
    publish_version("offers_spending", material=True)
    response = customer_client.post("/choices/offers_spending/", form)
    assert response.status_code == 302
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert (event.action, event.purpose_version.version) == ("withdrawn", 1)
    customer_client.post(
        "/choices/offers_spending/", choice_form(customer_client, "offers_spending", "grant")
    )
    forged = {"choice": "withdraw", "version": "7", "notice_sha256": "x"}
    assert customer_client.post("/choices/offers_spending/", forged).status_code == 302
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert (event.action, event.purpose_version.version) == ("withdrawn", 2)  # the current one


def test_the_hash_tells_which_language_was_read(customer_client, customer):
    """The page was in English; the form carries the English text's hash."""
    version = PurposeVersion.objects.get(purpose__code="offers_income", version=1)
    customer_client.post(
        "/choices/offers_income/",
        {"choice": "grant", "version": "1", "notice_sha256": version.notice_sha256("en")},
    )
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert (event.notice_language, event.notice_sha256) == ("en", version.notice_sha256("en"))
