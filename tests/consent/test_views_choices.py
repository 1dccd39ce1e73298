import urllib.parse

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertRedirects

from consent.models import ConsentState
from consent.signals import consent_ended
from ledger.models import ConsentEvent
from offers.receivers import OFFERS_RETRACTED
from tests.pages import choice_form
from tests.receivers import receiving


def state_of(customer, code):
    state = ConsentState.objects.filter(customer=customer, purpose__code=code).first()
    return state.state if state else None


def test_without_javascript_a_grant_is_recorded_and_redirects_to_the_dashboard(
    customer_client, customer
):
    response = customer_client.post(
        "/choices/offers_income/", choice_form(customer_client, "offers_income", "grant")
    )
    # Back at the card, not at the top of the page.
    assertRedirects(response, "/#purpose-offers_income", fetch_redirect_response=False)
    assert state_of(customer, "offers_income") == "granted"
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert (event.channel, event.actor, event.notice_language) == ("web", customer.user, "nl")
    page = customer_client.get("/")
    assertContains(page, "U heeft toestemming gegeven voor ‘Aanbiedingen op basis van wie u")


def test_without_javascript_a_withdrawal_says_what_it_did(customer_client, customer):
    response = customer_client.post(
        "/choices/offers_spending/",
        choice_form(customer_client, "offers_spending", "withdraw"),
        follow=True,
    )
    assert state_of(customer, "offers_spending") == "withdrawn"
    assertContains(response, "Wij gebruiken uw gegevens hier vanaf nu niet meer voor.")
    assertContains(response, 'role="status"')


def test_a_withdrawal_tells_how_many_open_offers_were_withdrawn(customer_client, customer):
    def retract_offers(**kwargs):
        return [OFFERS_RETRACTED(2)]

    with receiving(consent_ended, retract_offers):
        response = customer_client.post(
            "/choices/offers_spending/",
            choice_form(customer_client, "offers_spending", "withdraw"),
            follow=True,
        )
    assertContains(response, "2 open aanbiedingen die hierop steunden zijn ingetrokken.")


def test_with_htmx_only_the_card_is_returned_and_announced(customer_client, customer):
    response = customer_client.post(
        "/choices/offers_spending/",
        choice_form(customer_client, "offers_spending", "withdraw"),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<article class="purpose-card" id="purpose-offers_spending"')
    assert "<html" not in html and "<h1>" not in html
    assert 'id="switch-offers_spending"' in html and 'aria-checked="false"' in html
    assert 'id="announcer"' in html and 'hx-swap-oob="innerHTML"' in html
    assert 'aria-live="polite"' in html
    assert html.count("ingetrokken") >= 2  # in the card and in the live region
    assert state_of(customer, "offers_spending") == "withdrawn"


def test_with_htmx_a_grant_flips_the_switch_on(customer_client):
    response = customer_client.post(
        "/choices/offers_balance/",
        choice_form(customer_client, "offers_balance", "grant"),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    switch = html[html.index('id="switch-offers_balance"') :][:200]
    assert 'aria-checked="true"' in switch


def test_granting_again_after_a_material_change_shows_the_switch(customer_client, customer):
    from tests.factories import publish_version

    publish_version("offers_spending", material=True)
    response = customer_client.post(
        "/choices/offers_spending/",
        choice_form(customer_client, "offers_spending", "grant"),
        headers={"HX-Request": "true"},
    )
    html = response.content.decode()
    assert "Kies opnieuw:" not in html and 'aria-checked="true"' in html
    assert "tekstversie 2" in html


def test_the_htmx_card_runs_a_constant_number_of_queries(
    customer_client, django_assert_max_num_queries
):
    form = choice_form(customer_client, "offers_spending", "withdraw")
    # 16: the choice (with the stored one it may repeat), its card, and the consent change
    # feed's row (one statement).
    with django_assert_max_num_queries(16):
        customer_client.post("/choices/offers_spending/", form, headers={"HX-Request": "true"})


@pytest.mark.parametrize("choice", ["", "yes", "granted", "GRANT", "withdrawn"])
def test_any_other_choice_is_a_400_and_writes_nothing(customer_client, choice):
    before = ConsentEvent.objects.count()
    response = customer_client.post("/choices/offers_spending/", {"choice": choice})
    assertContains(response, "Keuze niet opgeslagen", status_code=400)
    assert ConsentEvent.objects.count() == before


def test_a_missing_choice_is_a_400(customer_client):
    before = ConsentEvent.objects.count()
    assert customer_client.post("/choices/offers_spending/").status_code == 400
    assert ConsentEvent.objects.count() == before


def test_an_unknown_purpose_is_a_404_and_writes_nothing(customer_client):
    before = ConsentEvent.objects.count()
    response = customer_client.post(
        "/choices/sell_to_partners/", {"choice": "grant", "version": "1"}
    )
    assert response.status_code == 404
    assert ConsentEvent.objects.count() == before


@pytest.mark.parametrize("purpose_code", ["payments", "fraud_prevention"])
@pytest.mark.parametrize("choice", ["grant", "withdraw"])
def test_a_required_purpose_is_refused_with_a_message(customer_client, purpose_code, choice):
    before = ConsentEvent.objects.count()
    response = customer_client.post(f"/choices/{purpose_code}/", {"choice": choice})
    assertContains(response, "kan niet worden uitgezet", status_code=409)
    assert ConsentEvent.objects.count() == before


def test_a_get_on_a_choice_url_goes_back_to_the_card_never_a_405(customer_client, customer):
    before = ConsentEvent.objects.count()
    response = customer_client.get("/choices/offers_income/?choice=grant")
    assertRedirects(response, "/#purpose-offers_income", fetch_redirect_response=False)
    page = customer_client.get("/").content.decode()
    card = page[page.index('id="purpose-offers_income"') :]
    card = card[: card.index("</article>")]
    assert "Hier is niets opgeslagen. Kies met de knop bij deze keuze." in card
    response = customer_client.get("/choices/stop-all/")
    assertRedirects(response, "/#stop-all-section", fetch_redirect_response=False)
    assert ConsentEvent.objects.count() == before


def test_other_urls_answer_a_wrong_method_with_the_sites_own_405_page(customer_client):
    response = customer_client.post("/history/")
    assertContains(response, "Dat kan op deze pagina niet", status_code=405)
    assert response["Allow"] == "GET, HEAD"
    assertContains(response, 'href="/"', status_code=405)


def test_a_post_without_csrf_token_is_refused(customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    before = ConsentEvent.objects.count()
    assert browser.post("/choices/offers_spending/", {"choice": "withdraw"}).status_code == 403
    assert browser.post("/choices/stop-all/").status_code == 403
    assert ConsentEvent.objects.count() == before


def test_the_htmx_csrf_header_is_accepted(customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    browser.get("/")
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        "/choices/offers_spending/",
        {"choice": "withdraw"},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 200


def test_anonymous_choices_go_to_login_and_write_nothing(client, db):
    response = client.post("/choices/offers_spending/", {"choice": "grant"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert not ConsentEvent.objects.exists()


def test_an_htmx_choice_after_the_session_ended_sends_the_page_to_login(client, db):
    response = client.post(
        "/choices/offers_spending/", {"choice": "grant"}, headers={"HX-Request": "true"}
    )
    # Back to this choice after logging in, and told that it was not saved.
    assert response["HX-Redirect"] == (
        f"{reverse('login')}?next=%2Fchoices%2Foffers_spending%2F%3Flogged_out%3D1"
    )
    assert not ConsentEvent.objects.exists()
    login = client.get(response["HX-Redirect"])
    assertContains(login, "U was uitgelogd. Wat u net koos, is NIET opgeslagen.")


def test_after_the_session_ended_logging_in_again_lands_on_the_card_with_a_message(
    client, customer
):
    """Without JavaScript: the POST goes to the login, the login back to the choice URL,
    and that to the card on the dashboard, which says why nothing was saved."""
    customer.user.set_password("secret-for-this-test")
    customer.user.save()
    response = client.post("/choices/offers_income/", {"choice": "grant"})
    login_url = response["Location"]
    assert login_url.startswith(reverse("login"))
    assertContains(client.get(login_url), "Wat u net koos, is NIET opgeslagen.")

    next_url = login_url.split("next=", 1)[1]
    response = client.post(
        login_url,
        {
            "username": customer.customer_number,
            "password": "secret-for-this-test",
            "next": urllib.parse.unquote(next_url),
        },
        follow=True,
    )
    assert response.redirect_chain[-1] == ("/#purpose-offers_income", 302)
    assert all(status != 405 for _, status in response.redirect_chain)
    html = response.content.decode()
    card = html[html.index('id="purpose-offers_income"') :]
    card = card[: card.index("</article>")]
    assert "U was uitgelogd, daarom is uw keuze hier NIET opgeslagen." in card
    assert state_of(customer, "offers_income") is None


def test_a_choice_is_recorded_in_the_language_the_customer_read(customer_client, customer):
    customer_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    customer_client.post(
        "/choices/offers_income/", choice_form(customer_client, "offers_income", "grant")
    )
    event = ConsentEvent.objects.filter(customer=customer).latest("sequence")
    assert event.notice_language == "en"
    assert event.notice_sha256 == event.purpose_version.notice_sha256("en")


def test_stop_all_withdraws_what_was_on_and_records_the_objection(customer_client, customer):
    before = ConsentEvent.objects.filter(customer=customer).count()
    response = customer_client.post("/choices/stop-all/", follow=True)
    assertContains(response, "Alle persoonlijke aanbiedingen zijn gestopt.")
    assertContains(response, "1 keuze is uitgezet.")
    new = ConsentEvent.objects.filter(customer=customer, sequence__gt=before).order_by("sequence")
    assert [(e.purpose_id and e.purpose.code, e.action) for e in new] == [
        ("offers_spending", "withdrawn"),
        (None, "objected"),
    ]
    assert state_of(customer, "offers_spending") == "withdrawn"
    assert state_of(customer, "offers_income") is None  # never switched on: no event
    assert 'aria-checked="true"' not in response.content.decode()


def test_stop_all_only_touches_the_logged_in_customer(customer_client, customer_who_consented):
    customer_client.post("/choices/stop-all/")
    assert state_of(customer_who_consented, "offers_spending") == "granted"


def test_a_staff_member_without_a_customer_cannot_choose(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="staff", is_staff=True))
    assert client.post("/choices/offers_spending/", {"choice": "grant"}).status_code == 403
    assert not ConsentEvent.objects.exists()


def test_a_second_click_on_withdraw_writes_nothing_and_says_it_was_already_off(
    customer_client, customer
):
    form = choice_form(customer_client, "offers_spending", "withdraw")
    customer_client.post("/choices/offers_spending/", form)
    events = ConsentEvent.objects.filter(customer=customer).count()
    response = customer_client.post(
        "/choices/offers_spending/", form, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assertContains(response, "Dit stond al uit. Er is niets veranderd.")
    assert ConsentEvent.objects.filter(customer=customer).count() == events


def test_the_same_grant_from_a_stale_tab_is_recorded_as_a_renewal(customer_client, customer):
    """A second tab still shows the switch off: granting there renews what the first did."""
    form = choice_form(customer_client, "offers_income", "grant")
    customer_client.post("/choices/offers_income/", form)
    events = ConsentEvent.objects.filter(customer=customer).count()
    response = customer_client.post("/choices/offers_income/", form, follow=True)
    assertContains(response, "verlengd: de termijn begint vandaag opnieuw.")
    assert ConsentEvent.objects.filter(customer=customer).count() == events + 1
    history = customer_client.get("/history/")
    assertContains(history, "verlengd", count=1)
