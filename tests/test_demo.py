import pytest
from django.core.management import call_command

from consent.demo import DEMO_PASSWORD
from consent.models import Customer
from ledger.models import ConsentEvent
from tests.proof import checkpoint_and_verify


def test_load_demo_creates_customers_who_can_log_in_and_a_valid_ledger(db, client, capsys):
    call_command("load_demo")
    out = capsys.readouterr().out
    assert f"100001 / {DEMO_PASSWORD}" in out
    assert Customer.objects.count() >= 5
    assert ConsentEvent.objects.filter(customer__customer_number="100001").count() == 4
    response = client.post("/accounts/login/", {"username": "100001", "password": DEMO_PASSWORD})
    assert response.status_code == 302 and response.url == "/"
    checkpoint_and_verify()


def test_load_demo_if_empty_leaves_existing_data_alone(db, capsys):
    call_command("load_demo")
    events = ConsentEvent.objects.count()
    call_command("load_demo", "--if-empty")
    assert "nothing loaded" in capsys.readouterr().out
    assert ConsentEvent.objects.count() == events


def test_load_demo_refuses_a_database_with_customers(db):
    call_command("load_demo")
    with pytest.raises(SystemExit):
        call_command("load_demo")
