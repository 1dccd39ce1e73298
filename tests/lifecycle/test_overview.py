"""The privacy overview shows, per kind of data, the oldest record still held next to the
promised period: one glance for a DPO to see whether retention runs."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.utils import timezone

from lifecycle.leaving import close_customer
from offers.overview import privacy_overview
from tests.factories import CustomerFactory, UserFactory
from tests.offers.factories import make_offer
from tests.proof import checkpoint

OVERVIEW = "/admin/offers/offer/overview/"
JOINED = dt.date(2026, 11, 2)


@pytest.fixture
def officer(db):
    user = UserFactory(username="priya", is_staff=True)
    user.groups.set([Group.objects.get(name="Privacy officers")])
    return user


@pytest.fixture
def history(db, grant, travel):
    """A dismissed offer two years old, never removed (retention has not run); a customer
    who left a year ago (the log took his departure in that day)."""
    two_years_ago = timezone.now() - dt.timedelta(days=730)
    sanne = CustomerFactory(customer_number="860001")
    grant(sanne, "offers_spending", at=two_years_ago)
    make_offer(sanne, status="dismissed", now=two_years_ago)
    daan = CustomerFactory(customer_number="860002")
    grant(daan, "offers_income", at=two_years_ago)
    a_year_ago = JOINED - dt.timedelta(days=365)
    close_customer(customer=daan, on=a_year_ago, at=travel(a_year_ago))
    checkpoint()
    travel(JOINED)
    return sanne, daan


def test_each_kind_shows_the_promised_period_and_the_oldest_record_held(history):
    rows = {row.kind: row for row in privacy_overview(at=timezone.now(), language="nl").held}
    assert list(rows) == [
        "offers",
        "data_use",
        "consent_proof",
        "transactions",
        "accounts",
        "profile",
    ]
    offers = rows["offers"]
    assert offers.promised == "1 jaar nadat het aanbod is afgesloten"
    assert offers.oldest == JOINED - dt.timedelta(days=730)
    assert offers.removable_from == JOINED - dt.timedelta(days=365)
    assert offers.overdue  # enforce_retention has not run: a DPO sees it at once
    proof = rows["consent_proof"]
    assert proof.oldest == JOINED - dt.timedelta(days=365)
    assert proof.removable_from == (JOINED - dt.timedelta(days=365)).replace(year=2030)
    assert not proof.overdue
    # Payments keep transactions until 7 years after the relationship ends: only those of
    # customers who left are on the clock, so an active customer's are never "overdue".
    transactions = rows["transactions"]
    assert "5 jaar na de transactie" in transactions.promised
    assert "7 jaar na het einde van de klantrelatie" in transactions.promised
    assert transactions.anchor == "relationship_end"
    assert transactions.oldest is None and not transactions.overdue


def test_after_enforce_retention_nothing_is_overdue(history):
    call_command("enforce_retention", stdout=io.StringIO())
    rows = privacy_overview(at=timezone.now(), language="en").held
    assert not any(row.overdue for row in rows)
    assert next(r for r in rows if r.kind == "offers").oldest is None


def test_the_privacy_officer_reads_the_table(client, officer, history):
    client.force_login(officer)
    page = client.get(OVERVIEW).content.decode()
    table = page[page.index('id="retention-held"') :]
    assert 'id="held-offers"' in table and "1 jaar nadat het aanbod is afgesloten" in table
    assert "te laat: draai enforce_retention" in table
    assert 'id="held-consent_proof"' in table and "op tijd" in table
