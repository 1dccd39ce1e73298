from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from tests.factories import CustomerFactory

PASSWORD = "correct horse battery"


def log_in(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password})


def test_a_customer_logs_in_with_the_right_password(client, db):
    customer = CustomerFactory(customer_number="500001")
    response = log_in(client, "500001", PASSWORD)
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == customer.user.pk


def test_after_five_failures_the_right_password_no_longer_logs_in(client, db):
    CustomerFactory(customer_number="500002")
    for _ in range(5):
        response = log_in(client, "500002", "wrong")
    response = log_in(client, "500002", PASSWORD)
    assert response.status_code == 429
    assertContains(response, "Tijdelijk geblokkeerd", status_code=429)
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_a_lockout_of_one_customer_leaves_others_alone(client, db):
    CustomerFactory(customer_number="500003")
    CustomerFactory(customer_number="500004")
    for _ in range(5):
        log_in(client, "500003", "wrong")
    response = log_in(Client(), "500004", PASSWORD)
    assert response.status_code == 302


def test_the_login_page_is_dutch_and_has_labels(client, db):
    response = client.get(reverse("login"))
    assertContains(response, '<html lang="nl">')
    assertContains(response, '<label for="id_username">Klantnummer</label>', html=True)
    assert response["X-Frame-Options"] == "DENY"


def test_logout_is_a_post(customer_client):
    response = customer_client.post(reverse("logout"))
    assert response.status_code == 302
    assert customer_client.get("/").status_code == 302


def test_every_customer_page_answers_with_the_security_headers(customer_client):
    for url in ("/", "/history/", "/export/", "/export.json", "/purposes/payments/v1/"):
        response = customer_client.get(url)
        assert response.status_code == 200, url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
