"""The customer's side: the dashboard's summary and order (point 4), readable
proof and a complete export (point 5), plain language in the customer's own language
(point 8)."""

import re

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from ledger.models import Action, ConsentEvent
from tests.factories import CustomerFactory, publish_version
from tests.pages import choice_form, downloaded_json


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- Point 4: phone first -------------------------------------------------------------------
def test_the_summary_counts_the_choices_that_are_on(customer_client, customer, choose_now):
    page = text_of(customer_client.get("/").content.decode())
    assert "1 van 6 keuzes aan" in page
    choose_now(customer, "offers_income")
    assert "2 van 6 keuzes aan" in text_of(customer_client.get("/").content.decode())


def test_what_needs_a_choice_comes_at_the_top_with_its_buttons(customer_client):
    publish_version("offers_spending", material=True)
    html = customer_client.get("/").content.decode()
    top = html[html.index('id="summary"') : html.index('id="choices-title"')]
    assert 'id="purpose-offers_spending"' in top and 'id="grant-offers_spending"' in top
    assert "Kies opnieuw: de tekst is veranderd." in top
    assert "0 van 6 keuzes aan" in text_of(top)


def test_the_objection_is_at_the_top_before_the_choices(customer_client):
    customer_client.post("/choices/stop-all/")
    html = customer_client.get("/").content.decode()
    assert html.index("U heeft alle persoonlijke aanbiedingen gestopt") < html.index(
        'id="purpose-offers_spending"'
    )


def test_choices_come_first_each_with_its_switch_and_details_on_demand(customer_client):
    html = customer_client.get("/").content.decode()
    # The optional purposes before the required ones.
    assert html.index('id="purpose-offers_spending"') < html.index('id="purpose-payments"')
    card = html[html.index('id="purpose-offers_income"') :]
    card = card[: card.index("</article>")]
    head = card[card.index('class="choice-head"') : card.index("</form>")]
    assert 'id="title-offers_income"' in head and 'role="switch"' in head
    assert '<details class="more-info">' in card
    details = card[card.index('<details class="more-info">') :]
    for label in ("Welke gegevens", "Wettelijke grondslag", "Hoe lang wij ze bewaren"):
        assert label in details


def test_required_purposes_are_collapsed_and_give_their_own_reason_once(customer_client):
    html = customer_client.get("/").content.decode()
    payments = html[html.index('id="purpose-payments"') :]
    payments = payments[: payments.index("</details>")]
    fraud = html[html.index('id="purpose-fraud_prevention"') :]
    fraud = fraud[: fraud.index("</details>")]
    assert html[: html.index('id="purpose-payments"')].endswith(
        '<details class="required-purpose" '
    )
    assert "Zonder dit kunnen wij uw rekening niet aanbieden" in payments
    # Fraud prevention rests on a legal duty, not on the contract.
    assert "De wet verplicht ons hiertoe. Daarom kunt u het niet uitzetten." in fraud
    assert "rekening niet aanbieden" not in fraud
    assert fraud.count("Daarom kunt u het niet uitzetten") == 1


def test_refusing_a_required_purpose_names_it_never_its_code(customer_client):
    response = customer_client.post("/choices/fraud_prevention/", {"choice": "withdraw"})
    assertContains(response, "‘Fraude en witwassen opsporen’ is verplicht", status_code=409)
    assertNotContains(response, "‘fraud_prevention’", status_code=409)


def test_without_javascript_the_result_is_shown_in_the_card(customer_client):
    form = choice_form(customer_client, "offers_income", "grant")
    response = customer_client.post("/choices/offers_income/", form, follow=True)
    html = response.content.decode()
    card = html[html.index('id="purpose-offers_income"') :]
    card = card[: card.index("</article>")]
    assert "U heeft toestemming gegeven" in card
    assert 'class="messages"' not in html  # not repeated at the top, out of sight


def test_an_htmx_choice_also_updates_the_summary(customer_client):
    form = choice_form(customer_client, "offers_income", "grant")
    response = customer_client.post("/choices/offers_income/", form, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="summary"' in html and 'hx-swap-oob="outerHTML"' in html
    assert "2 van 6 keuzes aan" in text_of(html)


# --- Point 5: readable proof ---------------------------------------------------------------
def test_each_receipt_is_a_plain_page_with_the_json_as_a_download(customer_client, customer):
    event = ConsentEvent.objects.get(customer=customer)
    history = customer_client.get("/history/")
    assertContains(history, f'href="/history/{event.pk}/receipt/"')
    response = customer_client.get(f"/history/{event.pk}/receipt/")
    assertContains(response, "U zette ‘Aanbiedingen op basis van waar en hoe u betaalt’ aan.")
    assertContains(response, "Zo controleert u dit bewijs")
    assertContains(response, event.notice_sha256)
    assertContains(response, 'href="/purposes/offers_spending/v1/"')
    assertContains(response, f'href="/history/{event.pk}/receipt.json" download')


def test_a_receipt_page_is_in_the_customers_language(customer_client, customer):
    event = ConsentEvent.objects.get(customer=customer)
    customer_client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = customer_client.get(f"/history/{event.pk}/receipt/")
    assertContains(response, "You switched on ‘Offers based on where and how you pay’.")
    assertContains(response, "How to check this receipt")


def test_another_customers_receipt_page_does_not_exist(customer_client, customer_who_consented):
    other = ConsentEvent.objects.get(customer=customer_who_consented)
    assert customer_client.get(f"/history/{other.pk}/receipt/").status_code == 404


def test_the_export_page_says_exactly_what_the_file_holds(customer_client):
    response = customer_client.get("/export/")
    for item in ("naam, e-mailadres", "bewijs van elke keuze", "Alle betalingen", "uitkomst"):
        assertContains(response, item)
    assertContains(response, 'href="/export/read/"')


def test_the_export_holds_everything_kept_about_this_customer_only(
    client, customer, customer_who_consented, choose_now
):
    from tests.offers.factories import AccountFactory, TransactionFactory, hold

    mine = AccountFactory(customer=customer, iban="NL91ABNA0417164300")
    hold(customer, "travel_insurance_europe")
    for n in range(5):
        TransactionFactory(account=mine, transaction_id=f"mine-{n}", country="FR")
    theirs = AccountFactory(customer=customer_who_consented, iban="NL20INGB0001234567")
    TransactionFactory(account=theirs, transaction_id="theirs-1", country="US")
    client.force_login(customer.user)

    data = downloaded_json(client.get("/export.json"))

    assert data["profile"]["email"] == customer.email
    assert [a["iban"] for a in data["accounts"]] == ["NL91ABNA0417164300"]
    assert data["holdings"] == [{"product": "travel_insurance_europe"}]
    assert sorted(t["transaction_id"] for t in data["transactions"]) == [
        f"mine-{n}" for n in range(5)
    ]
    assert "theirs-1" not in str(data) and "NL20INGB0001234567" not in str(data)
    (receipt,) = data["receipts"]
    assert receipt["consentReceiptID"] == str(
        ConsentEvent.objects.get(customer=customer).receipt_id
    )
    assert receipt["policyUrl"].endswith("/purposes/offers_spending/v1/")


def test_the_export_streams_transactions_in_chunks(customer_client, customer, monkeypatch):
    from banking import export as offers_export
    from tests.offers.factories import AccountFactory, TransactionFactory

    account = AccountFactory(customer=customer)
    for n in range(7):
        TransactionFactory(account=account, transaction_id=f"t-{n}")
    monkeypatch.setattr(offers_export, "TRANSACTION_CHUNK", 3)
    response = customer_client.get("/export.json")
    assert response.streaming
    assert len(downloaded_json(response)["transactions"]) == 7


def test_the_readable_export_shows_the_same_data(customer_client, customer):
    response = customer_client.get("/export/read/")
    assertContains(response, "Alles wat wij over u bewaren")
    assertContains(response, customer.email)
    # Purposes by their names, never their codes.
    assertContains(response, "Aanbiedingen op basis van waar en hoe u betaalt")
    assertNotContains(response, "offers_spending")


# --- Point 8: plain language, the customer's own language ---------------------------------
def test_no_nested_brackets_or_articles_in_the_main_text(customer_client):
    html = customer_client.get("/").content.decode()
    # Everything outside the <details> (the main text) says no article numbers.
    main = re.sub(r"<details.*?</details>", "", html, flags=re.S)
    main = re.sub(r'<p class="statement">.*?</p>', "", main, flags=re.S)
    assert "art. 6" not in main and "artikel 6" not in main
    assert not re.search(r"\([^()]*\([^()]*\)[^()]*\)", text_of(main))
    assert "artikel 6 lid 1 onder a" in html  # in the details


def test_stopping_all_offers_is_said_in_plain_words(customer_client):
    assertContains(
        customer_client.get("/"),
        "Hiermee zegt u: gebruik mijn gegevens niet om mij producten aan te bieden.",
    )


@pytest.mark.parametrize("days, expected", [(730, "2 jaar"), (30, "30 dagen")])
def test_an_expired_consent_says_years_not_days(client, db, choose_now, settings, days, expected):
    settings.CONSENT_MAX_AGE_DAYS = days
    customer = CustomerFactory()
    choose_now(customer, "offers_balance", days_ago=days + 5)
    client.force_login(customer.user)
    html = client.get("/").content.decode()
    assert f"hoogstens {expected} gelden" in text_of(html)
    assert "730 dagen" not in html


def test_sha256_appears_only_on_proof_pages(customer_client, customer):
    event = ConsentEvent.objects.get(customer=customer)
    for url in ("/", "/history/", "/export/", "/offers/", "/offers/data-use/"):
        assertNotContains(customer_client.get(url), "SHA-256")
    for url in (f"/history/{event.pk}/receipt/", "/purposes/offers_spending/v1/"):
        assertContains(customer_client.get(url), "SHA-256")


def test_the_language_stored_for_the_customer_applies_at_login(db):
    emma = CustomerFactory(customer_number="300099", language="en")
    emma.user.set_password("a password for emma")
    emma.user.save()
    browser = Client()
    browser.cookies["django_language"] = "nl"  # a Dutch visitor on this computer before
    response = browser.post(
        "/accounts/login/",
        {"username": "300099", "password": "a password for emma", "next": "/"},
        follow=True,
    )
    assertContains(response, '<html lang="en">')
    assertContains(response, "My privacy choices")
    assert browser.cookies["django_language"].value == "en"
    # The language switch still works afterwards.
    response = browser.post("/i18n/setlang/", {"language": "nl", "next": "/"}, follow=True)
    assertContains(response, '<html lang="nl">')


def test_a_dutch_customer_logs_in_in_dutch_after_an_english_visit(db):
    daan = CustomerFactory(customer_number="300098", language="nl")
    daan.user.set_password("a password for daan")
    daan.user.save()
    browser = Client()
    browser.cookies["django_language"] = "en"
    response = browser.post(
        "/accounts/login/",
        {"username": "300098", "password": "a password for daan", "next": "/"},
        follow=True,
    )
    assertContains(response, '<html lang="nl">')


def test_the_dashboard_still_runs_a_constant_number_of_queries_with_an_objection(
    customer_client, django_assert_num_queries, choose_now, customer
):
    customer_client.post("/choices/stop-all/")
    customer_client.get("/")
    # session, user with customer, the cards (the objection is one of the states), and
    # other apps' sections (settings.DASHBOARD_SECTIONS: third parties' access).
    with django_assert_num_queries(4):
        customer_client.get("/")
    assert Action.OBJECTED in ConsentEvent.objects.filter(customer=customer).values_list(
        "action", flat=True
    )
