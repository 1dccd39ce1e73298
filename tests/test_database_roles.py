"""Least privilege in the database: attacks on the ledger.

The tests run as the runtime role, like the web app, every command and every worker:
each attack is tried through the app's own connection and must fail and change nothing.
The owner (who only migrates) is tried on committed rows through its own connection.
"""

import psycopg
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction

from consent.models import ConsentState, PurposeVersion
from infra.database import owner_credentials
from infra.dbroles import TRUNCATE_TRIGGER
from ledger.models import ConsentEvent
from tests.protections import declared


def attempt(sql, params=None):
    """Run `sql` as the runtime role; return the database's refusal (or fail the test)."""
    with (
        pytest.raises(DatabaseError) as refused,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refused.value)


def ledger_snapshot():
    return (
        list(ConsentEvent.objects.order_by("pk").values()),
        list(ConsentState.objects.order_by("pk").values()),
        list(PurposeVersion.objects.order_by("pk").values()),
    )


def table(label):
    return apps.get_model(label)._meta.db_table


@pytest.fixture
def ledger(customer_who_consented, choose):
    choose(customer_who_consented, "offers_spending", "withdrawn")
    return ledger_snapshot()


def test_runtime_role_cannot_update_the_ledger(ledger):
    assert "permission denied" in attempt("UPDATE consent_consentevent SET channel = 'branch'")
    assert ledger_snapshot() == ledger


def test_runtime_role_cannot_delete_from_the_ledger(ledger):
    assert "permission denied" in attempt("DELETE FROM consent_consentevent")
    assert ledger_snapshot() == ledger


def test_runtime_role_cannot_truncate_the_ledger_or_the_state(ledger):
    for name in ("consent_consentevent", "consent_consentstate", "consent_purposeversion"):
        assert "permission denied" in attempt(f"TRUNCATE {name} CASCADE")
    assert ledger_snapshot() == ledger


def test_runtime_role_cannot_switch_the_triggers_off_with_pgtrigger_ignore(ledger):
    with connection.cursor() as cursor:
        cursor.execute("SET pgtrigger.ignore = '{consent_consentevent:append_only}'")
    try:
        assert "permission denied" in attempt("UPDATE consent_consentevent SET action = 'granted'")
        assert "permission denied" in attempt("DELETE FROM consent_purposeversion")
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET pgtrigger.ignore")
    assert ledger_snapshot() == ledger


def test_runtime_role_cannot_disable_triggers(ledger):
    for what in ("USER", "ALL", "append_only"):
        refusal = attempt(f"ALTER TABLE consent_consentevent DISABLE TRIGGER {what}")
        assert "must be owner" in refusal
    assert "must be owner" in attempt(f"DROP TRIGGER {TRUNCATE_TRIGGER} ON consent_consentevent")
    assert ledger_snapshot() == ledger


def test_runtime_role_cannot_become_someone_else_or_skip_triggers(ledger):
    owner = owner_credentials(connection.settings_dict)["USER"]
    assert "permission denied" in attempt(f'SET ROLE "{owner}"')
    assert "permission denied" in attempt("SET session_replication_role = replica")
    assert "permission denied" in attempt("CREATE TABLE public.mine (id int)")
    assert "must be owner" in attempt("DROP TABLE consent_consentevent CASCADE")
    assert "permission denied" in attempt(
        "INSERT INTO django_migrations (app, name, applied) VALUES ('consent', 'x', now())"
    )
    assert ledger_snapshot() == ledger


def test_runtime_role_is_no_superuser_and_owns_nothing(db):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT rolsuper, rolcreatedb, rolcreaterole, rolbypassrls, rolreplication,
                   current_user = session_user,
                   (SELECT count(*) FROM pg_class WHERE relowner = r.oid),
                   (SELECT count(*) FROM pg_proc WHERE proowner = r.oid),
                   (SELECT count(*) FROM pg_auth_members WHERE member = r.oid)
              FROM pg_roles r WHERE rolname = current_user
            """
        )
        row = cursor.fetchone()
    assert row == (False, False, False, False, False, True, 0, 0, 0)
    assert connection.settings_dict["USER"] == connection.settings_dict["RUNTIME_USER"]


def test_every_registered_append_only_table_grows_only_and_refuses_truncate(db):
    role = connection.settings_dict["RUNTIME_USER"]
    with connection.cursor() as cursor:
        for label in declared("append_only"):
            privileges = {}
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                cursor.execute(
                    "SELECT has_table_privilege(%s, %s, %s)", [role, table(label), privilege]
                )
                privileges[privilege] = cursor.fetchone()[0]
            assert privileges == {
                "SELECT": True,
                "INSERT": True,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }, label
        for label in declared("truncate_refused"):
            cursor.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [TRUNCATE_TRIGGER, table(label)],
            )
            assert cursor.fetchall() == [("O",)], label


# --- The owner: migrates, and still cannot empty the ledger by accident ------------------
@pytest.mark.django_db(transaction=True)
def test_even_the_owner_cannot_truncate_the_ledger_or_the_state(ledger, owner_connection):
    owner_connection.execute("SET pgtrigger.ignore = '{consent_consentevent:append_only}'")
    for name in ("consent_consentevent", "consent_consentstate", "consent_purposeversion"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            owner_connection.execute(f"TRUNCATE {name} CASCADE")
    assert ledger_snapshot() == ledger


@pytest.mark.django_db(transaction=True)
def test_the_row_triggers_still_refuse_the_owner_an_update_or_delete(ledger, owner_connection):
    for sql in (
        "UPDATE consent_consentevent SET channel = 'branch'",
        "DELETE FROM consent_consentevent",
        "UPDATE consent_purposeversion SET description_nl = 'anders'",
    ):
        with pytest.raises(psycopg.errors.RaiseException, match="Cannot update or delete"):
            owner_connection.execute(sql)
    assert ledger_snapshot() == ledger
