import pytest
from django.db import connection

from tests.factories import CustomerFactory


@pytest.fixture
def database_down():
    """Point the connection at a database that does not exist: a real failed connect."""

    def go_down():
        connection.close()
        connection.settings_dict["NAME"] = "no_such_database"

    real_name = connection.settings_dict["NAME"]
    yield go_down
    connection.close()
    connection.settings_dict["NAME"] = real_name


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
