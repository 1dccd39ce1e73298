from django.core.management import call_command
from django.utils import timezone

from offers.models import Offer


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
