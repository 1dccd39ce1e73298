"""Test data and a comparison for engine runs (tests/offers/test_runs.py, test_workers.py)."""

import datetime as dt

from offers.models import DataUse, Offer, OfferEvent
from tests.factories import CustomerFactory

from .conftest import AS_OF
from .factories import give_reason_for

RULES_AND_PURPOSES = {
    "travel_world_cover": "offers_spending",
    "student_account": "offers_income",
    "savings_account": "offers_balance",
}


def customers_for_every_rule(choose) -> list:
    """Eleven customers, interleaved so that every chunk of three holds a mix: for each
    rule some with consent and a reason, two with a reason but no consent, one with
    consent but no reason."""
    made = []
    for n in range(3):
        for rule, purpose in RULES_AND_PURPOSES.items():
            if rule == "student_account" and n == 2:
                continue
            customer = CustomerFactory(
                birth_date=dt.date(2006, 9, 1)
                if rule == "student_account"
                else dt.date(1985, 5, 17)
            )
            choose(customer, purpose, days_ago=30)
            give_reason_for(customer, rule, as_of=AS_OF)
            made.append(customer)
    for rule in ("travel_world_cover", "savings_account"):
        customer = CustomerFactory()
        give_reason_for(customer, rule, as_of=AS_OF)
        made.append(customer)
    idle = CustomerFactory()
    choose(idle, "offers_balance", days_ago=30)
    made.append(idle)
    return made


def snapshot() -> dict:
    """Everything a run writes, without ids and the run's own identity: what must be the
    same whichever process did the work."""
    offers = {
        (o.customer.customer_number, o.rule): (
            o.product.code,
            o.as_of,
            o.status,
            o.explanation_nl,
            o.evidence_en,
            o.staff_evidence_en,
            o.valid_until,
            tuple(o.relied_on.order_by("pk").values_list("pk", flat=True)),
        )
        for o in Offer.objects.select_related("customer", "product")
    }
    events = sorted(
        (e.offer.customer.customer_number, e.offer.rule, e.from_state, e.to_state, e.cause)
        for e in OfferEvent.objects.select_related("offer__customer")
    )
    data_use = sorted(
        (d.customer_id, d.purpose_id, d.consent_event_id, tuple(d.features), d.window_days)
        for d in DataUse.objects.all()
    )
    return {"offers": offers, "events": events, "data_use": data_use}
