import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from consent.models import Customer
from ledger.models import Action, ConsentEvent
from offers.models import Offer
from tests.proof import checkpoint_and_verify


def test_demo_data_makes_each_rule_fire_for_the_customers_the_design_predicts(db, capsys):
    call_command("load_demo")
    call_command("generate_offers")
    offers = set(Offer.objects.values_list("customer__customer_number", "rule"))
    assert offers == {
        ("100001", "travel_world_cover"),
        ("100004", "student_account"),
        ("100005", "savings_account"),
    }
    assert timezone.now()  # demo is relative to the day it is loaded


def test_load_demo_adds_synthetic_customers(db, capsys):
    call_command("load_demo", "--customers", "20")
    out = capsys.readouterr().out
    assert "100001 / " in out
    from consent.models import Customer

    assert Customer.objects.count() == 27


@pytest.mark.slow
@pytest.mark.parametrize(("seed", "customers"), [(1, 250), (2, 500), (7, 1000)])
def test_demo_data_keeps_the_rules_it_demonstrates_and_its_ledger_verifies(
    db, capsys, seed, customers
):
    # Every choice goes through the services that refuse what the rules forbid (under 16,
    # under an objection, on a text not yet published, after leaving): it loads at all.
    call_command("load_demo", "--customers", str(customers), "--seed", str(seed))
    assert "demo data loaded" in capsys.readouterr().out
    assert Customer.objects.count() == 7 + customers
    assert "ledger ok" in checkpoint_and_verify()
    # Each customer's choices are in their chain in the order they were made.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*) FROM (
                    SELECT occurred_at < lag(occurred_at) OVER (
                               PARTITION BY customer_id ORDER BY sequence) AS back
                      FROM {ConsentEvent._meta.db_table}) e
                 WHERE back"""
        )
        assert cursor.fetchone() == (0,)
    # What it demonstrates: switching on and off, the objection, leaving.
    actions = set(ConsentEvent.objects.values_list("action", flat=True))
    assert {Action.GRANTED, Action.WITHDRAWN, Action.OBJECTED, Action.LEFT} <= actions
