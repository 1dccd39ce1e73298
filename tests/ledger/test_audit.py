"""The ledger against an insider with database access: what the database refuses, and
what the verifier names when someone switches the guards off."""

import hashlib
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.utils import ProgrammingError
from django.test import override_settings

from consent.models import ConsentState, PurposeVersion
from ledger import keys
from ledger.models import GENESIS_HASH, ConsentEvent
from tests.proof import checkpoint


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@pytest.fixture
def tamper(owner_connection):
    """What an insider with the owner's password might do: switch the guards off and edit.
    (The app's runtime role can do neither; tests that tamper commit their data so that
    the owner's own connection sees it.)"""

    def tamper(sql, params=(), *, tables=("consent_consentevent", "consent_consentstate")):
        with owner_connection.transaction():
            owner_connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            owner_connection.execute(sql, params)
            for table in tables:
                owner_connection.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")

    return tamper


# Tests that tamper as the owner need their rows committed.
insider = pytest.mark.django_db(transaction=True)


def verify(capsys, *args):
    """Run the verifier; (passed, what it printed)."""
    try:
        call_command("verify_consent_ledger", *args)
    except CommandError as error:
        out = capsys.readouterr()
        return False, out.err + str(error)
    return True, capsys.readouterr().out


# --- What the database refuses the app's runtime role --------------------------------------
# (No UPDATE or DELETE on the ledger at all: infra/dbroles.py; the row triggers behind it
# are tested as the owner in tests/test_database_roles.py.)
def test_database_refuses_to_update_a_consent_event(customer_who_consented):
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        raw("UPDATE consent_consentevent SET action = 'withdrawn' WHERE id = %s", [event.pk])
    event.refresh_from_db()
    assert event.action == "granted"


def test_database_refuses_to_delete_a_consent_event(customer_who_consented):
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        raw("DELETE FROM consent_consentevent")
    assert ConsentEvent.objects.filter(customer=customer_who_consented).count() == 1


def test_published_notice_text_cannot_be_edited(db):
    with pytest.raises(ProgrammingError, match="permission denied"), transaction.atomic():
        raw("UPDATE consent_purposeversion SET description_nl = 'anders'")
    assert not PurposeVersion.objects.filter(description_nl="anders").exists()


def test_the_state_cannot_be_changed_without_writing_an_event(customer_who_consented):
    """Reviving a consent by moving its date, or flipping it, is refused: the state row
    must be the exact mirror of the latest event."""
    state = ConsentState.objects.get(customer=customer_who_consented)
    for sql in (
        "UPDATE consent_consentstate SET changed_at = now()",
        "UPDATE consent_consentstate SET state = 'withdrawn'",
        "UPDATE consent_consentstate SET purpose_version_id = NULL",
    ):
        with pytest.raises(IntegrityError, match="must mirror"), transaction.atomic():
            raw(sql)
    assert ConsentState.objects.get(pk=state.pk).changed_at == state.changed_at


def test_the_state_cannot_point_at_an_older_event(customer_who_consented, choose):
    first = ConsentEvent.objects.get(customer=customer_who_consented)
    choose(customer_who_consented, "offers_spending", "withdrawn")
    with pytest.raises(IntegrityError, match="must mirror"), transaction.atomic():
        raw(
            "UPDATE consent_consentstate SET event_id = %s, state = 'granted', changed_at = %s",
            [first.pk, first.occurred_at],
        )
    assert ConsentState.objects.get(customer=customer_who_consented).state == "withdrawn"


# --- The chain -------------------------------------------------------------------------------
def test_each_event_is_chained_to_the_previous_one_of_its_customer(customer_who_consented, choose):
    choose(customer_who_consented, "offers_spending", "withdrawn")
    choose(customer_who_consented, "offers_balance")
    first, second, third = ConsentEvent.objects.filter(customer=customer_who_consented)
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert first.hmac_key == keys.chain_keyring().current.fingerprint


def test_verifier_accepts_an_intact_ledger(
    customer_who_consented, customer_who_did_not, choose, capsys
):
    choose(customer_who_did_not, "offers_income")
    checkpoint()
    ok, out = verify(capsys)
    assert ok and "ledger ok: 2 events, 2 leaves in the log, 1 checkpoint(s)" in out


@insider
def test_verifier_names_the_customer_whose_event_was_edited(
    customer_who_consented, customer_who_did_not, choose, capsys, tamper
):
    choose(customer_who_did_not, "offers_income")
    choose(customer_who_consented, "offers_spending", "withdrawn")
    checkpoint()
    first = ConsentEvent.objects.filter(customer=customer_who_consented).first()
    tamper("UPDATE consent_consentevent SET channel = 'branch' WHERE id = %s", [first.pk])
    ok, err = verify(capsys)
    assert not ok and "customer 300001" in err and "hash does not match" in err
    assert "300002" not in err


@insider
def test_a_chain_rewritten_without_the_key_is_named(customer_who_consented, choose, capsys, tamper):
    """The insider turns the grant into a withdrawal and recomputes the chain with plain
    SHA-256, as the old ledger did: without the HMAC key the hashes cannot match."""
    checkpoint()
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    event.action = "withdrawn"
    payload = event.hash_payload(
        customer_number="300001", purpose_code="offers_spending", version=1
    )
    tamper(
        "UPDATE consent_consentevent SET action = 'withdrawn', hash = %s WHERE id = %s",
        [hashlib.sha256(payload).hexdigest(), event.pk],
    )
    ok, err = verify(capsys)
    assert not ok and "customer 300001: event" in err and "hash does not match" in err


@insider
def test_verifier_notices_a_deleted_event(customer_who_consented, choose, capsys, tamper):
    choose(customer_who_consented, "offers_balance")
    choose(customer_who_consented, "offers_balance", "withdrawn")
    checkpoint()
    middle = ConsentEvent.objects.get(customer=customer_who_consented, sequence=2)
    tamper("DELETE FROM consent_consentevent WHERE id = %s", [middle.pk])
    ok, err = verify(capsys)
    assert not ok and "customer 300001: event" in err


@insider
def test_verifier_names_the_customer_whose_state_differs_from_the_ledger(
    customer_who_consented, capsys, tamper
):
    checkpoint()
    tamper("UPDATE consent_consentstate SET state = 'withdrawn'")
    ok, err = verify(capsys)
    assert not ok and "customer 300001: current state differs from the ledger" in err


# --- Key rotation ------------------------------------------------------------------------------
@insider
def test_after_a_key_rotation_old_events_verify_and_the_old_key_cannot_sign_new_ones(
    customer_who_consented, choose, capsys, tmp_path, settings, tamper
):
    old = settings.LEDGER_HMAC_KEY
    last_old = ConsentEvent.objects.latest("pk").pk
    keyring = tmp_path / "retired.json"
    keyring.write_text(json.dumps([{"key": old, "last_event_id": last_old}]))
    settings.LEDGER_HMAC_KEY, settings.LEDGER_HMAC_RETIRED_KEYS = "the-new-key", str(keyring)
    keys.reset_caches()
    try:
        choose(customer_who_consented, "offers_spending", "withdrawn")
        new = ConsentEvent.objects.latest("pk")
        assert new.hmac_key == keys.ChainKey(b"the-new-key").fingerprint
        checkpoint()
        assert verify(capsys)[0]

        # An insider who kept the old key signs a fresh event with it: named.
        forged = ConsentEvent.objects.get(pk=new.pk)
        forged.hmac_key = keys.ChainKey(old.encode()).fingerprint
        forged.hash = forged.compute_hash(
            key=old.encode(), customer_number="300001", purpose_code="offers_spending", version=1
        )
        tamper(
            "UPDATE consent_consentevent SET hmac_key = %s, hash = %s WHERE id = %s",
            [forged.hmac_key, forged.hash, new.pk],
        )
        ok, err = verify(capsys)
        assert not ok and "retired before it" in err
    finally:
        keys.reset_caches()


@override_settings(LEDGER_HMAC_KEY=None, LEDGER_HMAC_KEY_FILE="/nonexistent/key")
def test_without_a_chain_key_nothing_is_recorded(customer_who_did_not, choose):
    keys.reset_caches()
    try:
        with pytest.raises(Exception, match="LEDGER_HMAC_KEY is not set"):
            choose(customer_who_did_not, "offers_income")
    finally:
        keys.reset_caches()
    assert not ConsentEvent.objects.filter(customer=customer_who_did_not).exists()


@insider
def test_an_owner_who_sets_pgtrigger_ignore_and_rewrites_an_event_is_named(
    customer_who_consented, capsys, owner_connection
):
    checkpoint()
    event = ConsentEvent.objects.get(customer=customer_who_consented)
    with owner_connection.transaction():
        # Tell pgtrigger to ignore every trigger on the ledger, for this transaction.
        owner_connection.execute(
            "SELECT set_config('pgtrigger.ignore', '{' || string_agg(tgname, ',') || '}',"
            " true) FROM pg_trigger WHERE tgrelid = 'consent_consentevent'::regclass"
        )
        owner_connection.execute(
            "UPDATE consent_consentevent SET action = 'withdrawn' WHERE id = %s", [event.pk]
        )
    ok, err = verify(capsys)
    assert not ok and "customer 300001: event" in err and "hash does not match" in err


@insider
def test_an_owner_who_revives_an_expired_consent_in_the_state_is_named(
    customer_who_consented, capsys, owner_connection, tamper
):
    checkpoint()
    # Without switching triggers off, the owner is refused like anyone...
    with pytest.raises(Exception, match="must mirror"), owner_connection.transaction():
        owner_connection.execute("UPDATE consent_consentstate SET changed_at = now()")
    # ... and with them off, the verifier names the customer.
    tamper("UPDATE consent_consentstate SET changed_at = now()")
    ok, err = verify(capsys)
    assert not ok and "customer 300001: current state differs from the ledger" in err


def test_an_objection_on_an_earlier_wording_still_verifies_and_its_receipt_shows_it(
    customer_who_did_not, client, capsys, now
):
    """The statement next to "stop all" was reworded; objections recorded on the old
    wording keep their proof: the verifier and the receipt find the text by its hash."""
    from consent import choices as services
    from consent.catalogue import OBJECTION_NOTICES
    from ledger.models import Action, Channel

    old = OBJECTION_NOTICES[0]["nl"]
    with transaction.atomic():
        event, _ = services.append_event(
            customer=services.lock_customer(customer_who_did_not),
            purpose=None,
            version=None,
            action=Action.OBJECTED,
            channel=Channel.WEB,
            actor=customer_who_did_not.user,
            at=now,
            language="nl",
            notice_sha256=hashlib.sha256(old.encode()).hexdigest(),
        )
    checkpoint()
    assert verify(capsys)[0]
    client.force_login(customer_who_did_not.user)
    assert client.get(f"/history/{event.pk}/receipt.json").json()["notice"] == old
    assert old in client.get(f"/history/{event.pk}/receipt/").content.decode()
