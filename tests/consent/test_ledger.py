import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import ProgrammingError

from consent.models import GENESIS_HASH, ConsentEvent, ConsentState, PurposeVersion


def raw(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# The app's runtime role has no UPDATE or DELETE on the ledger at all (consent/dbroles.py);
# the row triggers behind it are tested as the owner in tests/test_database_roles.py.
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


def test_each_event_is_chained_to_the_previous_one_of_its_customer(customer_who_consented, choose):
    choose(customer_who_consented, "offers_spending", "withdrawn")
    choose(customer_who_consented, "offers_balance")
    first, second, third = ConsentEvent.objects.filter(customer=customer_who_consented)
    assert (first.sequence, second.sequence, third.sequence) == (1, 2, 3)
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash


def test_verifier_accepts_an_intact_ledger(
    customer_who_consented, customer_who_did_not, choose, capsys
):
    choose(customer_who_did_not, "offers_income")
    call_command("verify_consent_ledger")
    assert "ledger ok: 2 events" in capsys.readouterr().out


def tamper(owner_connection, sql, params=()):
    """What an insider with the owner's password might do: switch the guard off and edit.

    (The app's runtime role can do neither; the tests that tamper commit their data so
    that the owner's own connection sees it.)
    """
    with owner_connection.transaction():
        owner_connection.execute("SET CONSTRAINTS ALL IMMEDIATE")
        owner_connection.execute("ALTER TABLE consent_consentevent DISABLE TRIGGER USER")
        owner_connection.execute(sql, params)
        owner_connection.execute("ALTER TABLE consent_consentevent ENABLE TRIGGER USER")


@pytest.mark.django_db(transaction=True)
def test_verifier_names_the_customer_whose_event_was_edited(
    customer_who_consented, customer_who_did_not, choose, capsys, owner_connection
):
    choose(customer_who_did_not, "offers_income")
    choose(customer_who_consented, "offers_spending", "withdrawn")
    first = ConsentEvent.objects.filter(customer=customer_who_consented).first()
    tamper(
        owner_connection,
        "UPDATE consent_consentevent SET channel = 'branch' WHERE id = %s",
        [first.pk],
    )

    with pytest.raises(CommandError, match="1 customer"):
        call_command("verify_consent_ledger")
    err = capsys.readouterr().err
    assert "customer 300001" in err and "hash does not match" in err
    assert "300002" not in err


@pytest.mark.django_db(transaction=True)
def test_verifier_notices_a_deleted_event(customer_who_consented, choose, capsys, owner_connection):
    choose(customer_who_consented, "offers_balance")
    choose(customer_who_consented, "offers_balance", "withdrawn")
    middle = ConsentEvent.objects.get(customer=customer_who_consented, sequence=2)
    tamper(owner_connection, "DELETE FROM consent_consentevent WHERE id = %s", [middle.pk])

    with pytest.raises(CommandError):
        call_command("verify_consent_ledger")
    assert "customer 300001: event" in capsys.readouterr().err


def test_verifier_names_the_customer_whose_state_differs_from_the_ledger(
    customer_who_consented, capsys
):
    ConsentState.objects.filter(customer=customer_who_consented).update(state="withdrawn")
    with pytest.raises(CommandError):
        call_command("verify_consent_ledger")
    assert "customer 300001: current state differs from the ledger" in capsys.readouterr().err
