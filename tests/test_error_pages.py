"""Error pages in the site's layout, in Dutch and English, with a way back; staff are
sent back to the admin."""

import pytest
from django.test import Client
from pytest_django.asserts import assertContains, assertNotContains

from tests.factories import CustomerFactory, UserFactory


@pytest.fixture
def customer(db):
    return CustomerFactory()


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer.user)
    return client


def branded(response, status, heading):
    assertContains(response, heading, status_code=status)
    assertContains(response, 'class="site-header"', status_code=status)
    assertContains(response, "/static/css/site.css", status_code=status)
    assertContains(response, 'href="/"', status_code=status)
    assertNotContains(response, "Traceback", status_code=status)


def test_a_404_has_the_sites_layout_and_a_way_back(customer_client):
    branded(customer_client.get("/no-such-page/"), 404, "Pagina niet gevonden")


def test_a_404_speaks_english_for_an_english_visitor(client, db):
    client.cookies["django_language"] = "en"
    response = client.get("/no-such-page/")
    branded(response, 404, "Page not found")
    assertContains(response, '<html lang="en">', status_code=404)


def test_a_405_has_the_sites_layout_and_says_nothing_was_saved(customer_client):
    response = customer_client.put("/history/")
    branded(response, 405, "Dat kan op deze pagina niet")
    assertContains(response, "NIET opgeslagen", status_code=405)


def test_a_csrf_failure_has_the_sites_layout_and_says_the_choice_was_not_saved(customer):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(customer.user)
    response = browser.post("/choices/offers_spending/", {"choice": "withdraw"})
    branded(response, 403, "Deze pagina is verlopen")
    assertContains(response, "Uw keuze is NIET opgeslagen", status_code=403)


def test_a_403_has_the_sites_layout(client, db):
    staff = UserFactory(username="zonder-rechten", is_staff=True)
    client.force_login(staff)
    # A staff member without the privacy officers' permission.
    response = client.get("/admin/offers/offer/overview/")
    assert response.status_code == 403
    assertContains(response, "Geen toegang", status_code=403)
    assertContains(response, 'href="/admin/"', status_code=403)


def test_a_400_has_the_sites_layout(client, db):
    response = client.get("/", headers={"host": "bad host name"})
    branded(response, 400, "Dit verzoek begrijpen wij niet")


def test_staff_get_their_way_back_to_the_admin(client, db):
    staff = UserFactory(username="beheer", is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.get("/admin/no-such-page/")
    assertContains(response, "Pagina niet gevonden", status_code=404)
    assertContains(response, "Terug naar het beheer", status_code=404)
    assertContains(response, 'href="/admin/"', status_code=404)


def test_a_get_on_the_logout_url_logs_nobody_out_and_is_no_405(customer_client):
    response = customer_client.get("/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/"
    assert customer_client.get("/").status_code == 200  # still logged in
    assert customer_client.post("/accounts/logout/").status_code == 302
    assert customer_client.get("/").status_code == 302  # now logged out


ERROR_PAGES = ["400", "403", "403_csrf", "404", "405", "500", "503"]


@pytest.mark.parametrize("name", [f"{page}.html" for page in ERROR_PAGES])
def test_every_error_page_renders_without_the_database_and_without_a_session(rf, name):
    """No `db` fixture: a query would fail the test. The request never went through the
    session and authentication middleware (as when the session store is down)."""
    from django.template import loader

    html = loader.get_template(name).render({}, rf.get("/offers/"))
    assert 'class="site-header"' in html and 'id="not-saved"' in html and 'href="/"' in html
    assert "Traceback" not in html
