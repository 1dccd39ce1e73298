"""The privacy officer's overview (docs/architecture.md) on a known data set, and who may see it."""

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ledger.models import Action
from offers.models import Offer
from offers.overview import privacy_overview
from tests.factories import CustomerFactory, add_purpose, publish_version

from .factories import make_offer

OVERVIEW = "/admin/offers/offer/overview/"


@pytest.fixture
def known_data(db, choose):
    """Five customers; the page shows today:

    - A granted spending and balance three days ago: a travel offer (approved) and a
      savings offer (proposed);
    - B granted spending 110 days ago; an offer 100 days ago was retracted when B
      withdrew; B granted again 95 days ago; an offer 90 days ago expired unanswered; an
      offer 25 days ago B dismissed; yesterday B withdrew;
    - C granted spending 800 days ago (expired: needs renewal); D never chose;
    - E granted income yesterday: a student offer, rejected.
    """
    now = timezone.now()

    def ago(days):
        return now - dt.timedelta(days=days)

    a, b, c, _d, e = (CustomerFactory(customer_number=f"52000{n}") for n in range(1, 6))
    choose(b, "offers_spending", at=ago(110))
    make_offer(b, status="retracted", now=ago(100))
    choose(b, "offers_spending", at=ago(95))
    make_offer(b, status="expired", now=ago(90))
    make_offer(b, status="dismissed", now=ago(25))
    choose(b, "offers_spending", Action.WITHDRAWN, at=ago(1))
    choose(c, "offers_spending", at=ago(800))
    choose(a, "offers_spending", at=ago(3))
    choose(a, "offers_balance", at=ago(3))
    choose(e, "offers_income", at=ago(1))
    make_offer(a, status="approved")
    make_offer(a, rule="savings_account")
    make_offer(e, rule="student_account", status="rejected")
    return now


def test_the_overview_counts_consent_per_purpose(known_data):
    overview = privacy_overview(at=known_data, language="nl")
    figures = {p.figures.code: p.figures for p in overview.purposes}
    assert set(figures) == {
        "offers_spending",
        "offers_income",
        "offers_balance",
        "contact_email",
        "contact_phone",
        "contact_post",
    }
    # The contact channels have a table of their own (tests/consent/test_contact_channels.py).
    assert [channel for channel, _purpose in overview.channels] == ["email", "phone", "post"]
    spending = figures["offers_spending"]
    assert (spending.granted, spending.withdrawn, spending.never_chosen) == (1, 1, 2)
    assert spending.needs_renewal == 1
    assert (figures["offers_income"].granted, figures["offers_income"].never_chosen) == (1, 4)
    assert figures["offers_balance"].granted == 1


def test_the_overview_counts_grants_and_withdrawals_per_week(known_data):
    overview = privacy_overview(at=known_data, language="nl", weeks=17)
    spending = next(p for p in overview.purposes if p.figures.code == "offers_spending")
    assert len(spending.weeks) == 17
    assert sum(w.granted for w in spending.weeks) == 3  # A, and B twice; C's is older
    assert sum(w.withdrawn for w in spending.weeks) == 2  # B, twice
    assert (
        spending.chart.startswith("<svg") and 'id="chart-offers_spending-title"' in spending.chart
    )


def test_the_funnel_counts_offers_per_product_and_stage(known_data):
    overview = privacy_overview(at=known_data, language="nl")
    funnel = {row.product_code: row.counts for row in overview.funnel}
    assert set(funnel) == {"travel_insurance_world", "savings_account", "student_account"}
    travel = funnel["travel_insurance_world"]
    assert travel == {
        "proposed": 4,
        "waiting": 0,
        "rejected": 0,
        "approved": 2,  # approved and waiting (A), dismissed (B)
        "shown": 1,
        "accepted": 0,
        "dismissed": 1,
        "retracted": 1,
        "expired": 1,
        "called": 0,
    }
    assert (funnel["savings_account"]["proposed"], funnel["savings_account"]["waiting"]) == (1, 1)
    assert funnel["student_account"]["rejected"] == 1


def test_a_privacy_officer_sees_the_overview_with_charts_and_tables(
    client, privacy_officer, known_data
):
    client.force_login(privacy_officer)
    response = client.get(OVERVIEW)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('class="chart"') == 6  # the offers purposes and the contact channels
    assert '<tr id="funnel-travel_insurance_world">' in page
    assert '<td class="number never-chosen">2</td>' in page
    assert 'href="/admin/consent/purpose/record-of-processing.csv"' in page
    assert 'href="/admin/consent/purpose/record-of-processing.json"' in page
    # The strict CSP holds: no inline style or script on the page.
    assert "<style" not in page and "style=" not in page
    assert "<script>" not in page
    # And the admin's front page links to it.
    assert f'href="{OVERVIEW}"' in client.get("/admin/").content.decode()


def test_the_overview_runs_a_fixed_number_of_queries(client, privacy_officer, known_data, choose):
    client.force_login(privacy_officer)
    client.get(OVERVIEW)
    with CaptureQueriesContext(connection) as before:
        client.get(OVERVIEW)
    # More customers, choices, offers, and another consent-based purpose.
    add_purpose("offers_extra", position=9, at=known_data - dt.timedelta(days=30))
    for n in range(5):
        customer = CustomerFactory()
        choose(customer, "offers_extra", at=known_data - dt.timedelta(days=n))
        choose(customer, "offers_spending", at=known_data - dt.timedelta(days=n))
        make_offer(customer)
    with CaptureQueriesContext(connection) as after:
        page = client.get(OVERVIEW).content.decode()
    assert page.count('class="chart"') == 7
    assert len(after) == len(before)


def test_a_material_version_shows_as_needing_renewal(privacy_officer, known_data):
    publish_version("offers_balance", material=True, at=known_data - dt.timedelta(hours=1))
    overview = privacy_overview(at=known_data, language="nl")
    balance = next(p.figures for p in overview.purposes if p.figures.code == "offers_balance")
    assert (balance.granted, balance.needs_renewal) == (0, 1)


@pytest.mark.parametrize("persona", ["reviewer", "clerk"])
def test_only_privacy_officers_see_the_overview_and_the_record(client, request, db, persona):
    if persona == "clerk":
        from tests.factories import UserFactory

        user = UserFactory(username="clerk", is_staff=True)
    else:
        user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in (
        OVERVIEW,
        "/admin/consent/purpose/record-of-processing.csv",
        "/admin/consent/purpose/record-of-processing.json",
    ):
        assert client.get(url).status_code == 403, url
    assert f'href="{OVERVIEW}"' not in client.get("/admin/").content.decode()


def test_a_customer_cannot_reach_the_overview(client, sanne):
    client.force_login(sanne.user)
    response = client.get(OVERVIEW)
    assert response.status_code == 302 and "/admin/login/" in response.url


def test_a_privacy_officer_downloads_the_art_30_record_from_the_catalogue(client, privacy_officer):
    client.force_login(privacy_officer)
    response = client.get("/admin/consent/purpose/record-of-processing.csv")
    rows = {r["purpose"]: r for r in csv.DictReader(io.StringIO(response.content.decode()))}
    assert set(rows) == {
        "payments",
        "fraud_prevention",
        "offers_spending",
        "offers_income",
        "offers_balance",
        "contact_email",
        "contact_phone",
        "contact_post",
    }
    for row in rows.values():
        for field in ("legal_basis", "data_categories", "recipients", "retention_nl"):
            assert row[field], (row["purpose"], field)
        assert row["transfers_outside_eea"] == "none"
    assert rows["offers_balance"]["legal_basis"].startswith("your consent")
    record = json.loads(client.get("/admin/consent/purpose/record-of-processing.json").content)
    spending = next(r for r in record["processing_activities"] if r["purpose"] == "offers_spending")
    assert spending["dpia_reference"] and spending["current_version"] == 1
    assert "Only Voorbeeldbank N.V. itself" in spending["recipients"]


def test_the_demo_staff_log_in_with_their_groups_permissions(client, db, capsys):
    from django.core.management import call_command

    from consent.demo import DEMO_PASSWORD

    call_command("load_demo")
    out = capsys.readouterr().out
    assert f"reviewer / {DEMO_PASSWORD}" in out and f"privacy / {DEMO_PASSWORD}" in out
    log_in = client.post("/admin/login/", {"username": "reviewer", "password": DEMO_PASSWORD})
    assert log_in.status_code == 302
    assert client.get("/admin/offers/offer/").status_code == 200
    assert client.get(OVERVIEW).status_code == 403
    client.logout()
    log_in = client.post("/admin/login/", {"username": "privacy", "password": DEMO_PASSWORD})
    assert log_in.status_code == 302
    assert client.get(OVERVIEW).status_code == 200
    assert Offer.objects.count() == 0
