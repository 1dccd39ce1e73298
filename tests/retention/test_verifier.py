"""Removed by retention, or tampered with: the verifier tells them apart. A retention
removal leaves a tombstone that the next signed checkpoint includes; a chain gone without
one, a tombstone no retention period justifies, or one written after the checkpoint that
should have signed it, is named."""

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from consent.services import close_customer
from ledger.checkpoints import checkpoint_files
from ledger.models import ConsentEvent, LedgerTombstone
from tests.factories import CustomerFactory

# The owner's connection sees only committed rows.
insider = pytest.mark.django_db(transaction=True)
JOINED = dt.date(2026, 11, 2)


def verify(capsys) -> tuple[bool, str]:
    try:
        call_command("verify_consent_ledger")
    except CommandError as error:
        return False, capsys.readouterr().err + str(error)
    return True, capsys.readouterr().out


def checkpoint():
    call_command("checkpoint_ledger", stdout=io.StringIO())


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
def two_customers(grant):
    """Sanne stays; Daan left on the day he joined. Both chose twice."""
    sanne = CustomerFactory(customer_number="850001")
    daan = CustomerFactory(customer_number="850002")
    for customer in (sanne, daan):
        grant(customer, "offers_spending")
        grant(customer, "offers_income")
    close_customer(customer=daan, on=JOINED, at=timezone.now())
    return sanne, daan


def five_years_later(travel):
    travel(JOINED.replace(year=JOINED.year + 5))


@insider
def test_the_verifier_passes_after_retention_removed_a_chain(two_customers, travel, capsys):
    _sanne, daan = two_customers
    checkpoint()
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    assert not ConsentEvent.objects.filter(customer=daan).exists()
    ok, out = verify(capsys)
    assert ok, out  # the chain is gone after the checkpoint, and a tombstone covers it
    checkpoint()
    newest = json.loads(checkpoint_files(_dir())[-1].read_text())
    assert [t["customer_number"] for t in newest["checkpoint"]["tombstones"]] == ["850002"]
    ok, out = verify(capsys)
    assert ok and "ledger ok: 2 events" in out
    assert "1 chain(s) removed by retention, each justified by its tombstone" in out
    checkpoint()  # a later checkpoint lists no tombstone twice
    newest = json.loads(checkpoint_files(_dir())[-1].read_text())
    assert newest["checkpoint"]["tombstones"] == []
    assert verify(capsys)[0]


def _dir():
    from django.conf import settings

    return settings.LEDGER_CHECKPOINT_DIR


@insider
def test_a_chain_removed_without_a_tombstone_is_named(two_customers, capsys, tamper):
    _sanne, daan = two_customers
    checkpoint()
    tamper("DELETE FROM consent_consentstate WHERE customer_id = %s", [daan.pk])
    tamper("DELETE FROM consent_consentevent WHERE customer_id = %s", [daan.pk])
    ok, err = verify(capsys)
    assert not ok and "customer 850002: deleted" in err
    assert "850001" not in err


@insider
def test_a_tombstone_forged_for_a_customer_not_past_retention_is_named(
    two_customers, capsys, tamper
):
    """The insider deletes a chain and writes a tombstone that names its signed head
    exactly: the head matches, but no retention period justifies the removal."""
    sanne, daan = two_customers
    checkpoint()
    for customer in (sanne, daan):
        head = ConsentEvent.objects.filter(customer=customer).order_by("-sequence").first()
        tamper("DELETE FROM consent_consentstate WHERE customer_id = %s", [customer.pk])
        tamper("DELETE FROM consent_consentevent WHERE customer_id = %s", [customer.pk])
        tamper(
            "INSERT INTO consent_ledgertombstone (customer_id, customer_number, events,"
            " last_sequence, last_hash, reason, as_of, removed_at)"
            " VALUES (%s, %s, %s, %s, %s, 'retention', %s, now())",
            [
                customer.pk,
                customer.customer_number,
                head.sequence,
                head.sequence,
                head.hash,
                timezone.localdate(),
            ],
        )
    ok, err = verify(capsys)
    assert not ok
    assert "customer 850001: tombstone, but the customer never left" in err
    assert "customer 850002: tombstone too early" in err


@insider
def test_a_tombstone_with_a_removal_day_still_to_come_is_named(two_customers, capsys, tamper):
    _sanne, daan = two_customers
    checkpoint()
    head = ConsentEvent.objects.filter(customer=daan).order_by("-sequence").first()
    tamper("DELETE FROM consent_consentstate WHERE customer_id = %s", [daan.pk])
    tamper("DELETE FROM consent_consentevent WHERE customer_id = %s", [daan.pk])
    tamper(
        "INSERT INTO consent_ledgertombstone (customer_id, customer_number, events,"
        " last_sequence, last_hash, reason, as_of, removed_at)"
        " VALUES (%s, '850002', %s, %s, %s, 'retention', '2040-01-01', now())",
        [daan.pk, head.sequence, head.sequence, head.hash],
    )
    ok, err = verify(capsys)
    assert not ok and "customer 850002: tombstone counts from 2040-01-01" in err


@insider
def test_a_chain_removed_between_two_checkpoints_without_a_tombstone_is_named(
    two_customers, capsys, tamper
):
    """Deleting a chain and letting the next hourly checkpoint sign the ledger without it
    does not hide it: the checkpoint before still has its head, and the later one lists
    no tombstone for it."""
    sanne, _daan = two_customers
    checkpoint()
    tamper("DELETE FROM consent_consentstate WHERE customer_id = %s", [sanne.pk])
    tamper("DELETE FROM consent_consentevent WHERE customer_id = %s", [sanne.pk])
    checkpoint()
    ok, err = verify(capsys)
    assert not ok and "customer 850001: chain of 2 event(s) gone between the checkpoints" in err


@insider
def test_a_tombstone_written_after_the_checkpoint_that_should_list_it_is_named(
    two_customers, travel, capsys, tamper
):
    _sanne, daan = two_customers
    checkpoint()
    five_years_later(travel)
    call_command("enforce_retention", stdout=io.StringIO())
    checkpoint()
    assert verify(capsys)[0]
    # Someone removes the signed tombstone and writes it again (another id, afterwards).
    tombstone = LedgerTombstone.objects.get()
    tamper("DELETE FROM consent_ledgertombstone WHERE id = %s", [tombstone.pk])
    ok, err = verify(capsys)
    assert not ok and f"tombstone {tombstone.pk} of a signed checkpoint is gone or changed" in err
    tamper(
        "INSERT INTO consent_ledgertombstone (id, customer_id, customer_number, events,"
        " last_sequence, last_hash, reason, as_of, removed_at)"
        " SELECT 0, customer_id, customer_number, events, last_sequence, last_hash, reason,"
        " as_of, removed_at FROM (VALUES (%s::bigint, %s, %s::int, %s::int, %s, 'retention',"
        " %s::date, now())) t(customer_id, customer_number, events, last_sequence, last_hash,"
        " reason, as_of, removed_at)",
        [
            daan.pk,
            "850002",
            tombstone.events,
            tombstone.last_sequence,
            tombstone.last_hash,
            tombstone.as_of,
        ],
    )
    ok, err = verify(capsys)
    assert not ok and "tombstone 0 is in no signed checkpoint" in err
