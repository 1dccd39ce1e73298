import json
import re
from html import unescape

import pytest
from django.template import defaultfilters
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext
from pytest_django.asserts import assertContains, assertNotContains

from consent.models import PurposeVersion
from ledger.models import Action, ConsentEvent
from tests.factories import publish_version


def listed_events(response) -> list[ConsentEvent]:
    """The ledger events the history page lists, in the page's order (each its own line,
    `<li class="event" id="event-<pk>">`)."""
    pks = [
        int(pk)
        for pk in re.findall(r'<li class="event" id="event-(\d+)">', response.content.decode())
    ]
    by_pk = ConsentEvent.objects.in_bulk(pks)
    assert len(by_pk) == len(pks), "a line for an event listed twice, or for no event"
    return [by_pk[pk] for pk in pks]


def test_history_lists_every_event_newest_first(customer_client, customer, choose_now):
    choose_now(customer, "offers_spending", Action.WITHDRAWN)
    choose_now(customer, "offers_balance")
    response = customer_client.get("/history/")
    events = listed_events(response)
    assert [e.sequence for e in events] == [3, 2, 1]
    assert {e.customer_id for e in events} == {customer.pk}
    html = response.content.decode()
    assert html.index("Aanbiedingen op basis van uw saldo") < html.index("uitgezet")
    assertContains(response, "aangezet", count=2)


def test_history_links_the_exact_text_version_and_a_receipt(customer_client, customer):
    event = ConsentEvent.objects.get(customer=customer)
    response = customer_client.get("/history/")
    assertContains(response, 'href="/purposes/offers_spending/v1/"')
    assertContains(response, f'href="/history/{event.pk}/receipt.json"')


def test_history_shows_the_version_each_choice_was_made_on(customer_client, customer, choose_now):
    publish_version("offers_spending", material=True)
    choose_now(customer, "offers_spending")
    response = customer_client.get("/history/")
    assertContains(response, 'href="/purposes/offers_spending/v2/"')
    assertContains(response, 'href="/purposes/offers_spending/v1/"')


def test_history_shows_only_the_logged_in_customers_events(
    customer_client, customer, customer_who_consented
):
    other = ConsentEvent.objects.get(customer=customer_who_consented)
    response = customer_client.get("/history/")
    assertNotContains(response, f"/history/{other.pk}/receipt.json")
    assert [e.customer_id for e in listed_events(response)] == [customer.pk]


def test_an_empty_history_says_so(client, customer_who_did_not):
    client.force_login(customer_who_did_not.user)
    assertContains(client.get("/history/"), "U heeft nog geen keuzes gemaakt.")


@pytest.mark.parametrize("extra", [0, 30])
def test_history_runs_a_constant_number_of_queries(
    customer_client, customer, choose_now, django_assert_num_queries, extra
):
    for n in range(extra):
        choose_now(customer, "offers_income", Action.WITHDRAWN if n % 2 else Action.GRANTED)
    # session, user with customer, events with their purpose and version, the notices
    # in effect (how long the proof is kept), the apps given access (api) and the advance
    # notices sent (consent.advance_notices).
    with django_assert_num_queries(6):
        response = customer_client.get("/history/")
    assert len(listed_events(response)) == 1 + extra


@pytest.mark.any_hour
@pytest.mark.parametrize("language", ["nl", "en"])
def test_a_line_shows_its_moment_as_djangos_date_filter_writes_it(
    customer_client, customer, language
):
    # The line's date is written in Python (consent.history_lines.EventLine), not by the filter.
    event = ConsentEvent.objects.get(customer=customer)
    html = customer_client.get("/history/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    with translation.override(language):
        local = timezone.localtime(event.occurred_at)
        when = defaultfilters.date(local, "j F Y, H:i")
        of_when = gettext("van %(date)s") % {"date": when}
    assert f'<time datetime="{local.isoformat()}">{when}</time>' in html
    assert html.count(f'<span class="visually-hidden"> {of_when}</span>') == 2


def test_the_text_read_is_named_in_the_language_of_each_page(customer_client, customer):
    # What a line says of a version is kept per process: per language, never the first one's.
    version = PurposeVersion.objects.get(purpose__code="offers_spending", version=1)
    for language, title, label in [
        ("en", version.title_en, "Version 1"),
        ("nl", version.title_nl, "Versie 1"),
        ("en", version.title_en, "Version 1"),
    ]:
        html = customer_client.get("/history/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert f"<strong>{escape(title)}</strong>" in html
        assert f'<a href="/purposes/offers_spending/v1/">{label}</a>' in html


def test_one_customers_lines_never_reach_the_next_customers_page(
    client, customer, customer_who_consented
):
    # The lines are made per page: one customer's lines never reach another's page.
    client.force_login(customer_who_consented.user)
    theirs = client.get("/history/").content.decode()
    client.force_login(customer.user)
    mine = client.get("/history/").content.decode()
    (event,) = ConsentEvent.objects.filter(customer=customer)
    (other,) = ConsentEvent.objects.filter(customer=customer_who_consented)
    assert f'id="event-{event.pk}"' in mine and f'id="event-{other.pk}"' not in mine
    assert f'id="event-{other.pk}"' in theirs and f'id="event-{event.pk}"' not in theirs
    assert '<span class="how">website</span>' in mine


def test_a_receipt_has_the_kantara_fields(customer_client, customer):
    event = ConsentEvent.objects.get(customer=customer)
    response = customer_client.get(f"/history/{event.pk}/receipt.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    receipt = json.loads(response.content)
    assert receipt["version"] == "KI-CR-v1.1.0"
    assert receipt["jurisdiction"] == "NL"
    assert receipt["consentReceiptID"] == str(event.receipt_id)
    assert receipt["consentTimestamp"] == int(event.occurred_at.timestamp())
    assert receipt["collectionMethod"] == "web"
    assert receipt["piiPrincipalId"] == customer.customer_number
    version = event.purpose_version
    (controller,) = receipt["piiControllers"]
    # What the card showed, from the version the customer consented to.
    assert controller["piiController"] == version.controller_nl
    assert controller["contact"] == version.dpo_contact_nl
    assert controller["email"] == "privacy@voorbeeldbank.example"
    assert receipt["policyUrl"].endswith("/purposes/offers_spending/v1/")
    (service,) = receipt["services"]
    (purpose,) = service["purposes"]
    assert service["service"] == "offers_spending"
    assert purpose["piiCategory"] == ["card_payments.country", "card_payments.merchant_category"]
    assert purpose["consentType"] == "EXPLICIT" and purpose["thirdPartyDisclosure"] is False
    assert purpose["termination"] == version.retention_nl
    assert purpose["recipients"] == version.recipients_nl
    assert receipt["legalBasis"] == "consent"
    assert receipt["action"] == "granted"
    assert receipt["noticeVersion"] == 1
    assert receipt["noticeSha256"] == event.notice_sha256
    assert receipt["ledgerHash"] == event.hash


def test_another_customers_receipt_is_a_404(customer_client, customer_who_consented):
    other = ConsentEvent.objects.get(customer=customer_who_consented)
    assert customer_client.get(f"/history/{other.pk}/receipt.json").status_code == 404


def test_a_receipt_that_does_not_exist_is_a_404(customer_client):
    assert customer_client.get("/history/999999/receipt.json").status_code == 404


def test_anonymous_visitors_get_no_receipt(client, customer_who_consented):
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    response = client.get(f"/history/{event.pk}/receipt.json")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_version_page_shows_the_exact_text_in_both_languages_with_hashes(client, db):
    response = client.get("/purposes/offers_spending/v1/")
    assert response.status_code == 200
    notice = PurposeVersion.objects.get(purpose__code="offers_spending", version=1)
    # As the customer reads them (the page escapes the apostrophes in the texts).
    text = unescape(response.content.decode())
    assert notice.description_nl in text
    assert notice.description_en in text
    assertContains(response, notice.notice_sha256("nl"))
    assertContains(response, notice.notice_sha256("en"))


def test_an_unpublished_or_unknown_version_is_a_404(client, db):
    from django.utils import timezone

    publish_version(
        "offers_spending", material=True, at=timezone.now() + timezone.timedelta(days=5)
    )
    assert client.get("/purposes/offers_spending/v2/").status_code == 404
    assert client.get("/purposes/offers_spending/v9/").status_code == 404
    assert client.get("/purposes/nope/v1/").status_code == 404
