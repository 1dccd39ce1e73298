import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

# /healthz compares this host's clock with the database's: these tests run on the real one.
pytestmark = pytest.mark.real_clock


def test_healthz_answers_200_when_the_database_answers(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db(transaction=True)
def test_healthz_answers_503_when_the_database_does_not(client):
    # Point the connection at a database that does not exist: a real failed connect.
    connection.close()
    real_name = connection.settings_dict["NAME"]
    connection.settings_dict["NAME"] = "no_such_database"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict["NAME"] = real_name
    assert response.status_code == 503
    assert b"database unavailable" in response.content


@pytest.mark.parametrize("off", [dt.timedelta(minutes=10), -dt.timedelta(minutes=10)])
def test_healthz_answers_503_on_a_host_whose_clock_is_off(client, db, off):
    """A host ten minutes ahead would have every choice refused by the ledger's trigger
    (and one behind would record them in the past): the load balancer must take it out."""
    with time_machine.travel(timezone.now() + off, tick=True):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert b"clock off by " + (b"+" if off > dt.timedelta(0) else b"-") in response.content


def test_healthz_allows_the_few_seconds_the_ledger_allows(client, db):
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3), tick=True):
        assert client.get("/healthz").status_code == 200
