"""No temporary table can stand in for ours: attacks on the owner's functions and the
triggers as the runtime role (the app's own connection).

PostgreSQL searches a session's temporary tables first unless a function's search path
names `pg_temp` last. The runtime role may create no temporary tables at all; the attacks
below are tried with that privilege given back for the test (as a careless grant would),
so that the functions' own search paths are what is tested: the runtime role makes a
temporary twin of every table the functions and triggers read, readable by everyone (so
that the owner's SECURITY DEFINER functions could read it too), and fills it with what
would let each attack through.
"""

import datetime as dt

import psycopg
import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg import sql

from api.models import ConsentChange
from consent.models import ConsentState, Customer
from consent.validity import valid_consents
from ledger.models import ConsentEvent
from lifecycle.retention import enforce_retention
from offers.models import Offer, OfferEvent
from tests.connections import runtime_connection
from tests.factories import CustomerFactory
from tests.offers.factories import make_offer

SEARCH_PATH = ["pg_catalog", "public", "pg_temp"]


def refused(statement, params=None) -> str:
    """Run `statement` as the runtime role; return the database's refusal (or fail)."""
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
    return str(refusal.value)


def run(statement, params=None):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


# --- Every function: a fixed search path, pg_temp last ------------------------------------
def test_every_function_and_trigger_function_has_a_search_path_ending_in_pg_temp(db):
    """Every function in the database (the owner's, pgtrigger's included) runs with a
    fixed search path: the catalogue first, `pg_temp` named last. A migration that
    creates a function without one ends with `consent.dbroles.PinSearchPaths()`."""
    rows = run(
        """
        SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner),
               (SELECT string_to_array(substr(c, length('search_path=') + 1), ', ')
                  FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg\\_%'
         ORDER BY 1
        """
    )
    owner = run(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
    )
    functions = {name: (who, path) for name, who, path in rows}
    assert "consent_state_mirrors_ledger()" in functions, "the query found no functions"
    assert "_pgtrigger_should_ignore(name)" in functions
    assert {who for who, _ in functions.values()} == {owner[0][0]}
    unpinned = sorted(name for name, (_, path) in functions.items() if path != SEARCH_PATH)
    assert unpinned == [], "functions without search_path = pg_catalog, public, pg_temp"


def test_the_runtime_role_may_not_create_temporary_tables(db):
    """Checked on a connection of its own: PostgreSQL checks the privilege when a session
    first makes its temporary schema."""
    with runtime_connection(autocommit=True) as conn:
        assert conn.info.user == connection.settings_dict["RUNTIME_USER"]
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="temporary tables"):
            conn.execute("CREATE TEMPORARY TABLE consent_consentevent (id bigint)")


# --- The attacks ----------------------------------------------------------------------------
class Shadows:
    """The runtime session's temporary twins of the tables the functions read. `make()`
    them once the test has read what it needs: the app's own queries (no schema in their
    table names) would read the twins too. `real` are left without a twin: the tables
    an attack wants the function to delete from (a twin would take the deletes)."""

    def __init__(self):
        self.names = []

    def make(self, *, real=()):
        tables = run(
            r"""
            SELECT c.relname,
                   string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)),
                              ', ' ORDER BY a.attnum)
              FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid
             WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
               AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped
               AND EXISTS (SELECT FROM pg_proc p
                            WHERE p.pronamespace = 'public'::regnamespace
                              AND p.prosrc ~ ('\m' || c.relname || '\M'))
             GROUP BY c.relname
            """
        )
        for name, columns in tables:
            if name in real:
                continue
            run(f"CREATE TEMPORARY TABLE {name} ({columns})")
            run(f"GRANT ALL ON pg_temp.{name} TO PUBLIC")
            self.names.append(name)
        # Every table the attacks below rely on, at least.
        assert {
            "consent_consentevent",
            "consent_ledgertombstone",
            "retention_clock",
            "consent_purposeversion",
        } <= set(self.names)
        assert {"offers_offer", "api_consentchange"} <= {*self.names, *real}
        return self

    def fill(self, table, select, params=None):
        """Copy rows into a twin (`select` reads the real tables, schema-qualified)."""
        run(f"INSERT INTO pg_temp.{table} {select}", params)

    def remove(self):
        for name in self.names:
            run(f"DROP TABLE IF EXISTS pg_temp.{name}")
        self.names = []


@pytest.fixture
def shadows(db, owner_connection):
    settings_dict = connection.settings_dict
    grant = sql.SQL("{} TEMPORARY ON DATABASE {} {} {}")
    database, role = sql.Identifier(settings_dict["NAME"]), sql.Identifier(settings_dict["USER"])
    owner_connection.execute(grant.format(sql.SQL("GRANT"), database, sql.SQL("TO"), role))
    made = Shadows()
    try:
        yield made
    finally:
        made.remove()
        owner_connection.execute(grant.format(sql.SQL("REVOKE"), database, sql.SQL("FROM"), role))


@pytest.fixture
def database_today(owner_connection, now):
    """The database's retention date is the test's day (not the machine's)."""
    owner_connection.execute("DELETE FROM retention_clock")
    owner_connection.execute(
        "INSERT INTO retention_clock (today) VALUES (%s)", [timezone.localdate(now)]
    )
    yield
    owner_connection.execute("DELETE FROM retention_clock")


@pytest.fixture
def sanne(customer_who_consented, choose):
    """Sanne granted offers based on where she pays ten days ago; today she withdrew."""
    choose(customer_who_consented, "offers_spending", "withdrawn")
    return customer_who_consented


def state_of(customer):
    return list(ConsentState.objects.filter(customer=customer).order_by("pk").values())


def test_a_shadowed_ledger_cannot_make_a_withdrawn_consent_count_again(sanne, shadows, now):
    """The state row pointed at her older grant, with a ledger twin in which that grant
    is her latest event: the state must still mirror the real ledger."""
    before = state_of(sanne)
    grant = ConsentEvent.objects.filter(customer=sanne, action="granted").get()
    shadows.make()
    shadows.fill(
        "consent_consentevent",
        "SELECT * FROM public.consent_consentevent WHERE id = %s",
        [grant.pk],
    )

    refusal = refused(
        """UPDATE public.consent_consentstate
              SET state = 'granted', event_id = %s, purpose_version_id = %s, changed_at = %s
            WHERE customer_id = %s AND purpose_id = %s""",
        [grant.pk, grant.purpose_version_id, grant.occurred_at, sanne.pk, grant.purpose_id],
    )

    assert "must mirror the latest ledger event" in refusal
    shadows.remove()
    assert state_of(sanne) == before
    assert not valid_consents(at=now).filter(customer=sanne).exists()


def test_a_shadowed_tombstone_cannot_delete_feed_rows_through_the_owners_function(sanne, shadows):
    """`remove_consent_changes` removes a customer's feed only behind a tombstone; a
    tombstone twin must not count."""
    feed = list(ConsentChange.objects.filter(customer_id=sanne.pk).values_list("pk", flat=True))
    assert feed
    shadows.make(real={"api_consentchange"})
    run(
        """INSERT INTO pg_temp.consent_ledgertombstone (id, customer_id, customer_number,
                events, last_sequence, last_hash, reason, as_of, removed_at)
            SELECT 1, id, customer_number, 2, 2, repeat('0', 64), 'retention', current_date,
                   now()
              FROM public.consent_customer WHERE id = %s""",
        [sanne.pk],
    )

    refusal = refused("SELECT remove_consent_changes(%s)", [sanne.pk])

    assert "was not removed by retention" in refusal
    shadows.remove()
    assert (
        list(ConsentChange.objects.filter(customer_id=sanne.pk).values_list("pk", flat=True))
        == feed
    )


@pytest.fixture
def daan(db, choose):
    """Daan has two offers: travel cover, which he turned down, and a savings account,
    waiting for review."""
    daan = CustomerFactory(customer_number="300003", first_name="Daan")
    choose(daan, "offers_spending", days_ago=10)
    choose(daan, "offers_balance", days_ago=10)
    make_offer(daan, status="dismissed")
    make_offer(daan, rule="savings_account")
    return daan


OFFER_TABLES = {
    "offers_offer",
    "offers_offerevent",
    "offers_followup",
    "offers_offer_relied_on",
    "offers_datause",
}


def offers_of(customer):
    return (
        list(Offer.objects.filter(customer=customer).order_by("pk").values()),
        list(OfferEvent.objects.filter(offer__customer=customer).order_by("pk").values()),
    )


def test_a_shadowed_erasure_request_cannot_delete_offer_events_through_the_owners_function(
    daan, shadows
):
    """`erase_offers_on_request` erases only behind an `erasure_requested` event in the
    ledger; one in a ledger twin must not count."""
    before = offers_of(daan)
    assert before[1]
    forged = 10**12
    shadows.make(real=OFFER_TABLES)
    shadows.fill(
        "consent_consentevent",
        "SELECT * FROM public.consent_consentevent WHERE customer_id = %s",
        [daan.pk],
    )
    run(
        """UPDATE pg_temp.consent_consentevent
              SET id = %s, action = 'erasure_requested', purpose_id = NULL,
                  purpose_version_id = NULL, occurred_at = now() + interval '1 day'
            WHERE id = (SELECT max(id) FROM pg_temp.consent_consentevent)""",
        [forged],
    )

    refusal = refused("SELECT * FROM erase_offers_on_request(%s)", [forged])
    assert "is not a request to erase" in refusal
    refusal = refused("SELECT erase_data_use_on_request(%s)", [forged])
    assert "is not a request to erase" in refusal

    shadows.remove()
    assert offers_of(daan) == before


def test_a_shadowed_retention_clock_cannot_delete_offers_early_through_the_owners_function(
    daan, shadows, database_today
):
    """`remove_offers_past_retention` counts with the database's date: a clock twin
    (and notices whose twins keep offers for no time at all) must not move it."""
    before = offers_of(daan)
    shadows.make(real=OFFER_TABLES)
    shadows.fill("retention_clock", "SELECT date '2100-01-01'")
    shadows.fill(
        "consent_purposeversion",
        """SELECT * FROM public.consent_purposeversion""",
    )
    run(
        """UPDATE pg_temp.consent_purposeversion
              SET retention_rules = '[{"data": "offers", "years": 0, "from": "offer_closed"}]'"""
    )

    removed = run("SELECT * FROM remove_offers_past_retention(%s, 1000)", [dt.date(2100, 1, 1)])

    assert removed == [(0, 0, 0)]
    shadows.remove()
    assert offers_of(daan) == before


def test_a_shadowed_ledger_cannot_backdate_a_departure_to_have_retention_wipe_a_customer(
    sanne, shadows, now
):
    """`closed_on` may not lie before a choice the customer made: with an empty ledger
    twin a departure in 2000 would pass, and retention would then remove her whole chain
    as five years past, tombstone and all, and the verifier would agree."""
    events = list(ConsentEvent.objects.filter(customer=sanne).values_list("pk", flat=True))
    shadows.make()

    refusal = refused(
        "UPDATE public.consent_customer SET closed_on = %s WHERE id = %s",
        [dt.date(2000, 1, 1), sanne.pk],
    )

    assert "made a choice after" in refusal
    shadows.remove()
    assert Customer.objects.get(pk=sanne.pk).closed_on is None
    enforce_retention(as_of=timezone.localdate(now), now=now)
    assert list(ConsentEvent.objects.filter(customer=sanne).values_list("pk", flat=True)) == events
