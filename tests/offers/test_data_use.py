"""'Wat wij met uw gegevens deden': each read of the offers engine is
logged by the gate when it reads, one row per run, customer and purpose, and shown to
the customer with what was read and what came of it."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from ledger.models import Action, ConsentEvent
from offers import engine, gate, review
from offers.customer import answer_offer, data_uses
from offers.models import DataUse, Offer
from offers.overview import privacy_overview
from offers.rules import RULES
from tests.factories import CustomerFactory, UserFactory
from tests.pages import downloaded_json

from .conftest import AS_OF
from .factories import AccountFactory, TransactionFactory, hold


def test_an_engine_run_logs_one_row_per_customer_and_purpose_it_read(
    traveller, student, saver, customer_who_did_not, now
):
    run = engine.generate_offers(as_of=AS_OF, now=now)
    rows = set(DataUse.objects.values_list("customer_id", "run_id", "purpose__code"))
    assert rows == {
        (traveller.pk, run.pk, "offers_spending"),
        (student.pk, run.pk, "offers_income"),
        (saver.pk, run.pk, "offers_balance"),
    }
    # The consent each read relied on: the customer's own grant.
    use = DataUse.objects.get(customer=traveller)
    assert use.consent_event == ConsentEvent.objects.get(customer=traveller, action="granted")
    assert (sorted(use.features), use.window_days) == (["card_payments", "products"], 90)
    assert DataUse.objects.get(customer=saver).window_days == 0


def test_a_customer_without_valid_consent_is_never_in_the_log(traveller, choose, now):
    choose(traveller, "offers_spending", Action.WITHDRAWN)
    engine.generate_offers(as_of=AS_OF, now=now)
    assert not DataUse.objects.exists()


def test_the_log_is_written_by_the_read_itself_in_its_transaction(traveller, now):
    """The gate writes it as part of the read, with one INSERT; a gate read outside an
    engine run (no run) logs nothing."""
    list(gate.features(rules=RULES, as_of=AS_OF, at=now))
    assert not DataUse.objects.exists()
    run = engine.generate_offers(as_of=AS_OF, now=now)
    with CaptureQueriesContext(connection) as queries:
        list(gate.features(rules=RULES, as_of=AS_OF, at=now, run_id=run.pk + 1000))
    inserts = [q["sql"] for q in queries if "INSERT INTO" in q["sql"]]
    assert len(inserts) == 1, "one INSERT for the whole read"
    assert DataUse.objects.filter(run_id=run.pk + 1000).count() == 1


def test_two_runs_are_two_lines_and_a_rerun_does_not_duplicate(traveller, now):
    first = engine.generate_offers(as_of=AS_OF, now=now)
    second = engine.generate_offers(as_of=AS_OF, now=now + dt.timedelta(hours=1))
    assert list(
        DataUse.objects.filter(customer=traveller).order_by("run_id").values_list("run_id")
    ) == [(first.pk,), (second.pk,)]


def test_the_page_lists_each_read_with_date_purpose_data_and_outcome(client, traveller, saver, now):
    # Noor already has a savings account: the rule reads her balance and finds nothing.
    hold(saver, "savings_account")
    AccountFactory(customer=saver, kind="savings", balance="10.00")
    engine.generate_offers(as_of=AS_OF, now=now)
    client.force_login(traveller.user)
    response = client.get("/offers/data-use/")
    assertContains(response, "<h1>Wat wij met uw gegevens deden</h1>", html=True)
    assertContains(response, "2 november 2026")
    assertContains(response, "Aanbiedingen op basis van waar en hoe u betaalt")
    assertContains(response, "kaartbetalingen van de afgelopen 90 dagen: land en soort winkel")
    assertContains(response, "Uitkomst: aanbieding voorgesteld (Reisverzekering wereld)")
    assertNotContains(response, "saldo")  # Noor's read is Noor's alone

    client.force_login(saver.user)
    response = client.get("/offers/data-use/")
    assertContains(response, "het saldo van uw betaalrekening")
    assertContains(response, "Uitkomst: niets gevonden")
    assertNotContains(response, "kaartbetalingen")


def test_the_page_speaks_english(client, traveller, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    client.force_login(traveller.user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.get("/offers/data-use/")
    assertContains(response, "card payments of the last 90 days: country and kind of shop")
    assertContains(response, "Outcome: offer proposed (World-wide travel insurance)")


def test_the_page_runs_a_constant_number_of_queries(
    client, traveller, now, django_assert_num_queries
):
    for hours in range(3):
        engine.generate_offers(as_of=AS_OF, now=now + dt.timedelta(hours=hours))
    client.force_login(traveller.user)
    # session, user with customer, the log with its outcomes, the erasures asked for.
    with django_assert_num_queries(4):
        response = client.get("/offers/data-use/")
    assert response.content.decode().count('class="use"') == 3


def test_the_export_has_the_log_of_this_customer_only(client, traveller, student, now):
    run = engine.generate_offers(as_of=AS_OF, now=now)
    client.force_login(traveller.user)
    (use,) = downloaded_json(client.get("/export.json"))["data_use"]
    offer = Offer.objects.get(customer=traveller)
    assert use == {
        "run": run.pk,
        "read_at": use["read_at"],
        "purpose": "offers_spending",
        "consent_event_id": offer.relied_on.get().pk,
        "features": ["card_payments", "products"],
        "window_days": 90,
        "description": "kaartbetalingen van de afgelopen 90 dagen: land en soort winkel;"
        " welke producten u bij ons heeft",
        "outcome": "offered",
        "offered": ["Reisverzekering wereld"],
        "kept": [],
        "answered": [],
    }


def test_the_privacy_overview_counts_the_reads(traveller, student, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    engine.generate_offers(as_of=AS_OF, now=now + dt.timedelta(hours=1))
    figures = {row.code: row for row in privacy_overview(at=timezone.now(), language="nl").data_use}
    assert (figures["offers_spending"].reads, figures["offers_spending"].customers) == (2, 1)
    assert (figures["offers_income"].reads, figures["offers_income"].customers) == (2, 1)
    assert "offers_balance" not in figures


def test_many_customers_cost_one_insert_per_chunk(db, choose, now):
    for _ in range(30):
        customer = CustomerFactory()
        choose(customer, "offers_spending", days_ago=5)
        hold(customer, "travel_insurance_europe")
        account = AccountFactory(customer=customer)
        TransactionFactory(account=account, booked_at=now - dt.timedelta(days=3), country="US")
    with CaptureQueriesContext(connection) as queries:
        engine.generate_offers(as_of=AS_OF, now=now)
    logged = [q for q in queries if "INSERT INTO" in q["sql"] and "offers_datause" in q["sql"]]
    assert len(logged) == 1
    assert DataUse.objects.count() == 30


def test_a_second_read_that_finds_the_open_offer_says_it_stayed_not_nothing(traveller, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    engine.generate_offers(as_of=AS_OF + dt.timedelta(days=1), now=now)
    later, first = data_uses(traveller, language="nl")
    assert (first.outcome, first.offered, first.kept) == (
        "offered",
        ["Reisverzekering wereld"],
        [],
    )
    assert (later.outcome, later.offered, later.kept) == ("kept", [], ["Reisverzekering wereld"])
    assert later.outcome_text == (
        "Uitkomst: geen nieuwe aanbieding; uw bestaande aanbieding (Reisverzekering wereld)"
        " bleef staan"
    )
    assert Offer.objects.filter(customer=traveller).count() == 1


def test_a_read_after_the_customer_answered_the_offer_says_so(traveller, now):
    engine.generate_offers(as_of=AS_OF, now=now)
    offer = Offer.objects.get(customer=traveller)
    review.approve(offer_ids=[offer.pk], reviewer=UserFactory(is_staff=True), at=now)
    answer_offer(traveller, offer.pk, answer="dismiss", at=now)
    engine.generate_offers(as_of=AS_OF + dt.timedelta(days=1), now=now)
    later, _first = data_uses(traveller, language="nl")
    # Dismissed before the second read: it no longer stood, and the product rests.
    assert (later.outcome, later.kept, later.answered) == (
        "answered",
        [],
        ["Reisverzekering wereld"],
    )
    assert later.outcome_text == (
        "Uitkomst: geen nieuwe aanbieding; u had al geantwoord op onze aanbieding"
        " (Reisverzekering wereld)"
    )
