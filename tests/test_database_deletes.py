"""The runtime role deletes no protected data (README, *Retention and erasure*): accounts,
products held, transactions (in every month), the data-use log, offers and what hangs
on them, customers and the consent state. Each attack runs as the runtime role, through
the app's own connection, and must be refused with nothing changed. What retention and
erasure remove goes through owner functions that check why themselves (tests/lifecycle
shows they still do their work)."""

import datetime as dt

import pgtrigger
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from banking.models import Account, Holding, Transaction, transaction_partitions
from consent.choices import stop_all_offers
from consent.models import ConsentState, Customer
from ledger.models import Channel, ConsentEvent
from offers.models import DataUse, FollowUp, Offer
from tests.offers.factories import make_offer
from tests.protections import declared

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def refused(statement, params=None) -> str:
    """Run `statement` as the runtime role; return the database's refusal (or fail)."""
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
    return str(refusal.value)


def privileges(table) -> dict[str, bool]:
    role = connection.settings_dict["RUNTIME_USER"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p, has_table_privilege(%s, %s, p) FROM unnest(%s::text[]) p",
            [role, table, list(PRIVILEGES)],
        )
        return dict(cursor.fetchall())


def protected_tables() -> list[str]:
    """Every table the apps declare `owner_deletes_only`, and every partition of one."""
    tables = [apps.get_model(label)._meta.db_table for label in declared("owner_deletes_only")]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT inhrelid::regclass::text FROM pg_inherits"
            " WHERE inhparent = ANY(%s::regclass[]) ORDER BY 1",
            [tables],
        )
        return tables + [name for (name,) in cursor.fetchall()]


def test_no_protected_table_and_no_month_of_transactions_may_be_deleted_or_truncated(db):
    tables = protected_tables()
    assert "offers_transaction_y2026m11" in tables  # the months are in the list
    for table in tables:
        granted = privileges(table)
        assert (granted["DELETE"], granted["TRUNCATE"]) == (False, False), table
        assert granted["SELECT"], table


def test_every_month_has_exactly_the_privileges_of_the_table(db):
    parent = privileges("offers_transaction")
    for partition in transaction_partitions():
        assert privileges(partition.name) == parent, partition.name


def test_a_month_added_later_gets_the_tables_privileges_so_no_delete(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT ensure_offers_transaction_partition(%s)", [dt.date(2031, 5, 1)])
        (name,) = cursor.fetchone()
    assert name == "offers_transaction_y2031m05"
    assert privileges(name) == privileges("offers_transaction")
    assert "permission denied" in refused(f"DELETE FROM {name}")


# --- Attacks ------------------------------------------------------------------------------
@pytest.fixture
def noor(customer_who_consented, choose, now):
    """Noor (Sanne's data, for short): an account with payments, a product, an offer she
    asked to be called about (a follow-up) and the engine's reads of her data; then she
    stopped all personal offers, so the objection is her purpose-less state row."""
    choose(customer_who_consented, "offers_balance", days_ago=10)
    make_offer(customer_who_consented, status="accepted")
    make_offer(customer_who_consented, rule="savings_account")
    stop_all_offers(customer=customer_who_consented, channel=Channel.WEB, actor=None, at=now)
    return customer_who_consented


def held(customer):
    """Everything of the customer the runtime role may not delete."""
    return {
        "customer": list(Customer.objects.filter(pk=customer.pk).values()),
        "state": list(ConsentState.objects.filter(customer=customer).order_by("pk").values()),
        "accounts": list(Account.objects.filter(customer=customer).order_by("pk").values()),
        "holdings": list(Holding.objects.filter(customer=customer).order_by("pk").values()),
        "transactions": sorted(
            Transaction.objects.filter(account__customer=customer).values_list(
                "transaction_id", flat=True
            )
        ),
        "data_use": list(DataUse.objects.filter(customer_id=customer.pk).values()),
        "offers": list(Offer.objects.filter(customer=customer).order_by("pk").values()),
        "relied_on": sorted(
            Offer.relied_on.through.objects.filter(offer__customer=customer).values_list(
                "offer_id", "consentevent_id"
            )
        ),
        "follow_ups": list(FollowUp.objects.filter(offer__customer=customer).values()),
    }


def test_noor_has_something_of_every_kind(noor):
    assert all(held(noor).values())
    assert ConsentState.objects.filter(customer=noor, purpose__isnull=True).exists()


def test_the_runtime_role_cannot_delete_accounts_even_with_pgtrigger_ignore(noor):
    before = held(noor)
    with pgtrigger.ignore("banking.Account:accounts_are_never_deleted"):
        assert "permission denied" in refused(
            "DELETE FROM offers_account WHERE customer_id = %s", [noor.pk]
        )
    assert "permission denied" in refused("DELETE FROM offers_holding")
    assert held(noor) == before


def test_the_runtime_role_cannot_delete_transactions_from_the_table_or_any_month(noor):
    before = held(noor)
    assert "permission denied" in refused("DELETE FROM offers_transaction")
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tableoid::regclass::text FROM offers_transaction")
        months = [name for (name,) in cursor.fetchall()]
    assert months
    for month in months:
        assert "permission denied" in refused(f"DELETE FROM {month}")
        assert "permission denied" in refused(f"TRUNCATE {month}")
    assert held(noor) == before


def test_the_runtime_role_cannot_delete_the_data_use_log(noor):
    before = held(noor)
    assert "permission denied" in refused(
        "DELETE FROM offers_datause WHERE customer_id = %s", [noor.pk]
    )
    assert held(noor) == before


def test_the_runtime_role_cannot_delete_the_objection_or_any_state_row(noor):
    before = held(noor)
    assert "permission denied" in refused(
        "DELETE FROM consent_consentstate WHERE customer_id = %s AND purpose_id IS NULL",
        [noor.pk],
    )
    assert "permission denied" in refused("DELETE FROM consent_consentstate")
    assert held(noor) == before


def test_the_runtime_role_cannot_delete_offers_their_follow_ups_or_what_they_relied_on(noor):
    before = held(noor)
    for table in ("offers_followup", "offers_offer_relied_on", "offers_offer"):
        assert "permission denied" in refused(f"DELETE FROM {table}")
    assert held(noor) == before


def test_the_runtime_role_cannot_delete_a_customer(noor):
    before = held(noor)
    assert "permission denied" in refused("DELETE FROM consent_customer WHERE id = %s", [noor.pk])
    assert held(noor) == before


def test_the_runtime_role_cannot_truncate_any_protected_table(noor):
    before = held(noor)
    for table in protected_tables():
        assert "permission denied" in refused(f"TRUNCATE {table} CASCADE")
    assert held(noor) == before


# --- The owner's functions remove only what is due ----------------------------------------
@pytest.fixture
def database_today(owner_connection, now):
    """The database's retention date is the test's day (not the machine's)."""
    owner_connection.execute("DELETE FROM retention_clock")
    owner_connection.execute(
        "INSERT INTO retention_clock (today) VALUES (%s)", [timezone.localdate(now)]
    )
    yield
    owner_connection.execute("DELETE FROM retention_clock")


def call(statement, params):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def test_the_removers_remove_nothing_before_its_time_whatever_date_they_are_given(
    noor, database_today
):
    """The caller names a day far ahead and every account: each function counts with the
    database's own date, on which nothing of a customer who stays is past its period."""
    before = held(noor)
    far = dt.date(2100, 1, 1)
    accounts = list(Account.objects.values_list("pk", flat=True))
    assert call("SELECT remove_data_use_past_retention(%s, %s)", [far, 1000]) == [(0,)]
    assert call("SELECT remove_transactions_past_retention(%s, %s)", [far, accounts]) == [(0,)]
    assert call("SELECT * FROM remove_accounts_past_retention(%s)", [far]) == [(0, 0)]
    assert held(noor) == before


def test_the_data_use_log_is_erased_only_behind_an_erasure_request(noor):
    before = held(noor)
    grant = ConsentEvent.objects.filter(customer=noor, action="granted").first()
    assert "is not a request to erase" in refused(
        "SELECT erase_data_use_on_request(%s)", [grant.pk]
    )
    assert held(noor) == before
