"""Removed by retention, or tampered with: the verifier tells them apart, trusting no column.

Retention removes a chain whole and leaves a tombstone: the customer's departure (the
`left` event's entry, which is a leaf of the signed log) and the leaves it removed. The
leaves stay in the tree; the verifier accepts a leaf without its event only when a
tombstone accounts for it, the departure it keeps is the leaf it names, and the period
the notices state, counted from the logged departure, had run out. The next checkpoint
signs the tombstones; one changed or removed afterwards is named."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from ledger.models import Action, ConsentEvent, LedgerTombstone, LogLeaf
from lifecycle.leaving import close_customer
from tests.factories import CustomerFactory
from tests.proof import checkpoint

# The owner's connection sees only committed rows.
insider = pytest.mark.django_db(transaction=True)
JOINED = dt.date(2026, 11, 2)
TOMBSTONE_COLUMNS = (
    "customer_id, customer_number, events, last_sequence, last_hash, reason, as_of,"
    " removed_at, left_entry, left_leaf, leaves"
)


def verify() -> tuple[bool, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_consent_ledger", stdout=out, stderr=err)
    except CommandError as error:
        return False, err.getvalue() + str(error)
    return True, out.getvalue()


@pytest.fixture
def tamper(owner_connection):
    """An insider with the owner's password: switches the guards off and edits."""

    def tamper(sql, params=()):
        tables = ("consent_consentevent", "consent_consentstate", "consent_ledgertombstone")
        with owner_connection.transaction():
            owner_connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            owner_connection.execute(sql, params)
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    return tamper


@pytest.fixture
def two_customers(grant, travel):
    """Sanne stays; Daan left on the day he joined. Both chose twice; that day's
    checkpoint took everything into the log."""
    travel(JOINED)
    sanne = CustomerFactory(customer_number="850001")
    daan = CustomerFactory(customer_number="850002")
    for customer in (sanne, daan):
        grant(customer, "offers_spending")
        grant(customer, "offers_income")
    close_customer(customer=daan, on=JOINED, at=timezone.now())
    checkpoint()
    return sanne, daan


def five_years_later(travel):
    travel(JOINED.replace(year=JOINED.year + 5))


def leaves_of(customer) -> list[int]:
    events = ConsentEvent.objects.filter(customer=customer).values("pk")
    return sorted(LogLeaf.objects.filter(event_id__in=events).values_list("index", flat=True))


def departure_of(customer) -> tuple[str, int]:
    left = ConsentEvent.objects.get(customer=customer, action=Action.LEFT)
    return left.entry, LogLeaf.objects.get(event_id=left.pk).index


def remove_by_hand(tamper, customer):
    tamper("DELETE FROM consent_consentstate WHERE customer_id = %s", [customer.pk])
    tamper("DELETE FROM consent_consentevent WHERE customer_id = %s", [customer.pk])


@insider
def test_the_verifier_passes_after_retention_removed_a_chain(two_customers, travel):
    sanne, daan = two_customers
    removed = leaves_of(daan)
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    assert not ConsentEvent.objects.filter(customer=daan).exists()
    tombstone = LedgerTombstone.objects.get(customer=daan)
    assert tombstone.leaves == removed and tombstone.left_leaf in removed
    assert json.loads(tombstone.left_entry)["left_on"] == JOINED.isoformat()
    # The leaves stay in the tree: the signed roots still hold.
    assert LogLeaf.objects.count() == 2 + 5
    out = checkpoint()
    assert "checkpoint of size 7 signed" in out
    ok, out = verify()
    assert ok and "2 events, 7 leaves in the log, 2 checkpoint(s), 1 tombstone(s)" in out
    assert ConsentEvent.objects.filter(customer=sanne).count() == 2


@insider
def test_a_chain_removed_without_a_tombstone_is_named(two_customers, tamper):
    _sanne, daan = two_customers
    orphans = leaves_of(daan)
    remove_by_hand(tamper, daan)
    ok, err = verify()
    assert not ok
    for index in orphans:
        assert f"leaf {index} (event" in err and "no justified tombstone accounts for it" in err


@insider
def test_a_tombstone_forged_for_a_customer_not_past_retention_is_named(two_customers, tamper):
    """The insider deletes both chains and writes tombstones that account for every leaf:
    Sanne never left, and Daan left too recently."""
    sanne, daan = two_customers
    entry, leaf = departure_of(daan)
    for customer, departure, departure_leaf in ((sanne, None, None), (daan, entry, leaf)):
        head = ConsentEvent.objects.filter(customer=customer).order_by("-sequence").first()
        leaves = leaves_of(customer)
        remove_by_hand(tamper, customer)
        tamper(
            f"INSERT INTO consent_ledgertombstone ({TOMBSTONE_COLUMNS})"
            " VALUES (%s, %s, %s, %s, %s, 'retention', %s, now(), %s, %s, %s)",
            [
                customer.pk,
                customer.customer_number,
                head.sequence,
                head.sequence,
                head.hash,
                timezone.localdate(),
                departure or "{}",
                departure_leaf if departure_leaf is not None else leaves[0],
                leaves,
            ],
        )
    ok, err = verify()
    assert not ok
    assert "customer 850001: tombstone's departure is not leaf" in err
    assert "customer 850002: tombstone too early: the relationship ended on 2026-11-02" in err


@insider
def test_a_departure_backdated_in_the_tombstone_is_named(two_customers, travel, tamper):
    """Retention ran; then the insider moves the departure in the tombstone back, to make
    another removal look justified: the entry is no longer the signed leaf."""
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    checkpoint()
    tombstone = LedgerTombstone.objects.get()
    backdated = tombstone.left_entry.replace(JOINED.isoformat(), "2015-01-01")
    tamper(
        "UPDATE consent_ledgertombstone SET left_entry = %s WHERE id = %s",
        [backdated, tombstone.pk],
    )
    ok, err = verify()
    assert not ok
    assert f"customer 850002: tombstone's departure is not leaf {tombstone.left_leaf}" in err
    # And the tombstones the newest checkpoint signed are not what they were.
    assert "the tombstones the checkpoint of size 7 signed were changed or removed" in err


@insider
def test_a_tombstone_with_a_removal_day_still_to_come_is_named(two_customers, tamper):
    _sanne, daan = two_customers
    entry, leaf = departure_of(daan)
    head = ConsentEvent.objects.filter(customer=daan).order_by("-sequence").first()
    leaves = leaves_of(daan)
    remove_by_hand(tamper, daan)
    tamper(
        f"INSERT INTO consent_ledgertombstone ({TOMBSTONE_COLUMNS})"
        " VALUES (%s, '850002', %s, %s, %s, 'retention', '2040-01-01', now(), %s, %s, %s)",
        [daan.pk, head.sequence, head.sequence, head.hash, entry, leaf, leaves],
    )
    ok, err = verify()
    assert not ok and "customer 850002: tombstone counts from 2040-01-01" in err


@insider
def test_a_signed_tombstone_removed_afterwards_is_named(two_customers, travel, tamper):
    _sanne, _daan = two_customers
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    checkpoint()
    assert verify()[0]
    tamper("DELETE FROM consent_ledgertombstone")
    ok, err = verify()
    assert not ok
    assert "the tombstones the checkpoint of size 7 signed were changed or removed" in err
    assert "no justified tombstone accounts for it" in err


@insider
def test_a_tombstone_no_checkpoint_signed_for_too_long_is_named(
    two_customers, travel, _frozen_clock, settings
):
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    # No checkpoint after the removal, for longer than the interval.
    _frozen_clock.shift(dt.timedelta(seconds=settings.LEDGER_CHECKPOINT_MAX_AGE_SECONDS + 60))
    ok, err = verify()
    assert not ok and "tombstone older than the newest checkpoint, which did not sign it" in err
