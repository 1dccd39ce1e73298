import pytest

from tests.factories import CustomerFactory


@pytest.mark.django_db(transaction=True)
def test_a_database_outage_is_a_503_page_that_says_nothing_was_saved(client, database_down):
    customer = CustomerFactory()
    client.force_login(customer.user)
    client.raise_request_exception = False
    database_down()

    response = client.get("/")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "NIET opgeslagen" in response.content.decode()
    assert "Traceback" not in response.content.decode()
