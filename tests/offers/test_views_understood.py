"""Offers the customer understands: the button says what happens,
answers stay visible, the product's key facts are shown."""

import pytest
from pytest_django.asserts import assertContains, assertNotContains

from offers.models import Offer

from .factories import make_offer

pytestmark = pytest.mark.any_hour


@pytest.fixture
def approved(sanne, allow_calls):
    """Sanne allows calls about offers; her travel cover is on her offers page."""
    allow_calls(sanne)
    return make_offer(sanne, status="approved")


def test_the_button_says_a_phone_call_follows(client, sanne, approved):
    client.force_login(sanne.user)
    response = client.get("/offers/")
    assertContains(response, f'id="interested-{approved.pk}">Bel mij hierover</button>')
    assertContains(response, "belt een medewerker van de bank u hierover")
    assertNotContains(response, ">Interessant<")


def test_saying_yes_confirms_the_call(client, sanne, approved):
    client.force_login(sanne.user)
    response = client.post(f"/offers/{approved.pk}/interested/", follow=True)
    assertContains(response, "Een medewerker van de bank belt u over ‘Reisverzekering wereld’")


@pytest.mark.parametrize(
    "answer, says", [("interested", "om gebeld te worden"), ("dismiss", "geen interesse had")]
)
def test_answered_offers_stay_visible_with_their_answer(client, sanne, approved, answer, says):
    client.force_login(sanne.user)
    client.post(f"/offers/{approved.pk}/{answer}/")
    page = client.get("/offers/").content.decode()
    answered = page[page.index('id="answered-title"') :]
    assert "Reisverzekering wereld" in answered and says in answered
    # Not offered again: the buttons are gone.
    assert f'action="/offers/{approved.pk}/{answer}/"' not in page


def test_an_offer_shows_the_products_key_facts(client, sanne, approved):
    client.force_login(sanne.user)
    response = client.get("/offers/")
    assertContains(response, "Premie: € 6,50 per maand")
    assertContains(response, "Eigen risico: € 50 per schade")
    client.post("/i18n/setlang/", {"language": "en", "next": "/offers/"})
    assertContains(client.get("/offers/"), "Premium: € 6.50 a month")


def test_the_catalogue_products_all_have_key_facts(db):
    from banking.models import Product

    for product in Product.objects.all():
        assert product.facts("nl") and product.facts("en"), product.code


def test_the_page_runs_a_constant_number_of_queries(
    client, sanne, django_assert_num_queries, approved
):
    client.force_login(sanne.user)
    client.get("/offers/")
    Offer.objects.filter(pk=approved.pk).update(status="accepted")
    # session, user with customer, shown offers (none: no consents to prefetch), answered,
    # and whether phone calls about offers count (consent.channels).
    with django_assert_num_queries(5):
        page = client.get("/offers/").content.decode()
    assert 'id="answered-title"' in page
