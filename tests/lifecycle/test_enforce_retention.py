"""`enforce_retention` removes what is past the periods the notices in effect state, kind by
kind, says what it removed, and does nothing more on a second run. What the runtime role
may not delete goes through owner functions that check the period again."""

import datetime as dt
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from api.models import ConsentChange
from banking.models import Account, Holding, Transaction
from consent.choices import notice_on_screen
from consent.models import ConsentState, Customer, StaffAction
from consent.staff import act_for_customer
from ledger.models import ConsentEvent, LedgerTombstone
from lifecycle.leaving import close_customer
from offers.models import DataUse, Offer, OfferEvent
from tests.factories import CustomerFactory, UserFactory
from tests.offers.factories import AccountFactory, TransactionFactory, make_offer
from tests.proof import checkpoint

JOINED = dt.date(2026, 11, 2)


def run(*args) -> str:
    out = io.StringIO()
    call_command("enforce_retention", *args, stdout=out)
    return out.getvalue()


def refused(sql, params=None) -> str:
    with (
        pytest.raises(DatabaseError) as refusal,
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return str(refusal.value)


@pytest.fixture
def stayer(db, grant):
    """Sanne stays a customer: consent, an offer she turned down, a payment, an account."""
    sanne = CustomerFactory(customer_number="840001")
    grant(sanne, "offers_spending")
    make_offer(sanne, status="dismissed")
    account = AccountFactory(customer=sanne)
    TransactionFactory(account=account, booked_at=timezone.now() - dt.timedelta(days=1))
    return sanne


@pytest.fixture
def leaver(db, grant, database_date):
    """Daan left the day he joined; a staff member had switched a purpose on for him. The
    next checkpoint took his departure into the log that day."""
    daan = CustomerFactory(customer_number="840002")
    staff = UserFactory(username="klantenservice-kim", is_staff=True)
    staff.groups.set([Group.objects.get(name="Klantenservice")])
    grant(daan, "offers_spending")
    act_for_customer(
        customer=daan,
        purpose_code="offers_balance",
        action="granted",
        channel="phone",
        staff=staff,
        identity_checked=True,
        note="Belde zelf",
        at=timezone.now(),
        **_shown("offers_balance"),
    )
    # The engine's reason: an account, travel insurance for Europe, two payments abroad.
    make_offer(daan, status="approved")
    close_customer(customer=daan, on=JOINED, at=timezone.now())
    database_date(JOINED)
    checkpoint()
    daan.refresh_from_db()
    return daan


def _shown(code):
    return notice_on_screen(purpose_code=code, at=timezone.now())


def test_offers_go_a_year_after_they_closed_and_open_ones_stay(stayer, grant, travel):
    other = CustomerFactory()
    grant(other, "offers_spending")
    open_offer = make_offer(other, status="approved")
    travel(JOINED + dt.timedelta(days=364))
    run()
    assert Offer.objects.filter(customer=stayer).count() == 1
    travel(JOINED + dt.timedelta(days=365))
    out = run()
    assert "offers (offers and your answers to them): 1 offers, 3 offer events" in out
    assert not Offer.objects.filter(customer=stayer).exists()
    assert not OfferEvent.objects.filter(offer__customer=stayer).exists()
    # An offer still open is not closed: it stays, whatever its age.
    assert Offer.objects.get(pk=open_offer.pk).status == "approved"


def test_the_data_use_log_goes_a_year_after_the_read(stayer, travel):
    from offers.engine import generate_offers

    travel(JOINED + dt.timedelta(days=10))
    generate_offers(as_of=JOINED + dt.timedelta(days=10), now=timezone.now())
    reads = DataUse.objects.filter(customer_id=stayer.pk)
    assert reads.count() == 2  # when the offer was made, and now
    travel(JOINED + dt.timedelta(days=365))
    assert "data_use (the log of what we did with your data): 1 rows" in run()
    assert reads.count() == 1
    travel(JOINED + dt.timedelta(days=10 + 364))
    run()
    assert reads.count() == 1
    travel(JOINED + dt.timedelta(days=10 + 365))
    run()
    assert reads.count() == 0


def test_a_customer_who_stays_keeps_proof_payments_and_accounts(stayer, travel):
    held = (
        ConsentEvent.objects.filter(customer=stayer).count(),
        Transaction.objects.filter(account__customer=stayer).count(),
        Account.objects.filter(customer=stayer).count(),
    )
    travel(dt.date(2040, 1, 1))
    run()
    assert held == (
        ConsentEvent.objects.filter(customer=stayer).count(),
        Transaction.objects.filter(account__customer=stayer).count(),
        Account.objects.filter(customer=stayer).count(),
    )
    assert Customer.objects.get(pk=stayer.pk).first_name != ""


def test_the_proof_of_a_customer_who_left_goes_whole_five_years_later(leaver, stayer, travel):
    events = ConsentEvent.objects.filter(customer=leaver).count()
    assert events == 5  # two grants, two withdrawals when he left, his departure
    left = leaver.closed_on
    travel(left.replace(year=left.year + 5) - dt.timedelta(days=1))
    run()
    assert ConsentEvent.objects.filter(customer=leaver).count() == events
    travel(left.replace(year=left.year + 5))
    out = run()
    assert f"1 customers, {events} events" in out
    for model in (ConsentEvent, ConsentState, ConsentChange):
        assert not model.objects.filter(customer=leaver).exists(), model
    assert not StaffAction.objects.filter(event__customer=leaver).exists()
    tombstone = LedgerTombstone.objects.get(customer=leaver)
    assert (tombstone.customer_number, tombstone.events, tombstone.last_sequence) == (
        "840002",
        events,
        events,
    )
    assert tombstone.as_of == left.replace(year=left.year + 5)
    # Someone who stays keeps everything.
    assert ConsentEvent.objects.filter(customer=stayer).count() == 1


def test_payments_accounts_and_the_profile_go_seven_years_after_leaving(leaver, travel):
    left = leaver.closed_on
    travel(left.replace(year=left.year + 7) - dt.timedelta(days=1))
    run()
    assert Transaction.objects.filter(account__customer=leaver).exists()
    assert Customer.objects.get(pk=leaver.pk).first_name != ""
    travel(left.replace(year=left.year + 7))
    out = run()
    # Every customer with payments in that month has left long enough ago: it goes whole.
    assert "transactions (your payments): 1 months, 2 rows" in out
    assert "accounts (your accounts, balances and products): 1 accounts, 1 holdings" in out
    assert not Transaction.objects.filter(account__customer=leaver).exists()
    assert not Account.objects.filter(customer=leaver).exists()
    assert not Holding.objects.filter(customer=leaver).exists()
    customer = Customer.objects.get(pk=leaver.pk)
    assert customer.pseudonymised_on == left.replace(year=left.year + 7)
    assert (customer.first_name, customer.email, customer.birth_date) == ("", "", None)


def test_old_transactions_of_a_customer_who_left_go_once_every_rule_has_run_out(leaver, travel):
    """Fraud detection keeps a transaction 5 years after it, payments 7 years after the
    relationship ends: the later of the two."""
    account = Account.objects.get(customer=leaver)
    left = leaver.closed_on
    TransactionFactory(account=account, booked_at=timezone.now() + dt.timedelta(days=3))
    travel(left.replace(year=left.year + 7))
    run()
    assert not Transaction.objects.filter(account=account).exists()


def test_it_says_what_it_removed_per_kind_and_a_second_run_removes_nothing(leaver, travel):
    travel(dt.date(2040, 1, 1))
    out = run()
    for kind in ("offers", "data_use", "consent_proof", "transactions", "accounts", "profile"):
        assert f"  {kind} (" in out
    assert "retention as of 2040-01-01:" in out
    again = run()
    assert "0 removed or pseudonymised in all" in again
    assert again.count("nothing past its period") == 6


def test_it_never_counts_with_a_day_after_the_databases_own(leaver, travel, database_date):
    travel(dt.date(2040, 1, 1))
    database_date(dt.date(2027, 1, 1))
    out = run("--as-of", "2040-01-01")
    assert "counted as of 2027-01-01" in out
    assert ConsentEvent.objects.filter(customer=leaver).exists()


def test_a_bad_date_is_a_clear_error(db):
    with pytest.raises(CommandError, match="not a date"):
        run("--as-of", "morgen")


# --- What the runtime role cannot do --------------------------------------------------------
def test_the_runtime_role_cannot_remove_a_chain_before_its_time(leaver, stayer):
    """Whatever date it passes: the function counts with the database's date."""
    for customer in (leaver, stayer):
        assert "not past its retention period" in refused(
            "SELECT remove_consent_proof(%s, %s)", [customer.pk, dt.date(2100, 1, 1)]
        )
    assert ConsentEvent.objects.filter(customer=leaver).count() == 5


def test_the_runtime_role_cannot_write_tombstones_or_move_the_database_date(leaver):
    assert "permission denied" in refused(
        "INSERT INTO consent_ledgertombstone (customer_id, customer_number, events,"
        " last_sequence, last_hash, reason, as_of, removed_at)"
        " VALUES (%s, '840002', 4, 4, 'x', 'retention', now(), now())",
        [leaver.pk],
    )
    assert "permission denied" in refused("INSERT INTO retention_clock VALUES ('2100-01-01')")
    assert "permission denied" in refused("DELETE FROM api_consentchange")
    assert "was not removed by retention" in refused(
        "SELECT remove_consent_changes(%s)", [leaver.pk]
    )
    assert "permission denied" in refused(
        "SELECT retention_ignore_row_triggers(ARRAY['consent_consentevent']::regclass[])"
    )


def test_a_chain_something_still_refers_to_is_kept_and_counted(leaver, travel):
    """Were an offer kept longer than the proof (say a notice kept offers 10 years), the
    chain it relies on is not broken: it is kept, and the run says so."""
    from tests.factories import publish_version

    for code in ("offers_spending", "offers_income", "offers_balance"):
        publish_version(
            code,
            material=False,
            retention_rules=[
                {"data": "offers", "years": 10, "from": "offer_closed"},
                {"data": "consent_proof", "years": 5, "from": "relationship_end"},
            ],
        )
    left = leaver.closed_on
    travel(left.replace(year=left.year + 5))
    out = run()
    assert "1 customers kept still referred to" in out
    assert ConsentEvent.objects.filter(customer=leaver).count() == 5
    assert not LedgerTombstone.objects.exists()


def test_data_no_notice_gives_a_period_for_is_kept_and_the_run_says_so(leaver, travel):
    """Never a guessed period: if no notice in effect states one for transactions, none
    are removed, however old."""
    from tests.factories import publish_version

    publish_version(
        "payments",
        material=False,
        retention_rules=[{"data": "accounts", "years": 7, "from": "relationship_end"}],
    )
    publish_version(
        "fraud_prevention",
        material=False,
        retention_rules=[{"data": "accounts", "years": 5, "from": "relationship_end"}],
    )
    travel(dt.date(2050, 1, 1))
    out = run()
    assert "transactions (your payments): kept: no notice in effect states a period" in out
    assert Transaction.objects.filter(account__customer=leaver).count() == 2
    # Its account stays too: its transactions still refer to it.
    assert Account.objects.filter(customer=leaver).count() == 1


def test_the_tables_only_the_owners_functions_write_are_read_only_for_the_runtime_role(db):
    from django.apps import apps

    from infra.dbroles import OWNER_WRITES, TRUNCATE_TRIGGER

    role = connection.settings_dict["RUNTIME_USER"]
    with connection.cursor() as cursor:
        for label in OWNER_WRITES:
            table = apps.get_model(label)._meta.db_table
            granted = {}
            for privilege in ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"):
                cursor.execute("SELECT has_table_privilege(%s, %s, %s)", [role, table, privilege])
                granted[privilege] = cursor.fetchone()[0]
            assert granted == {
                "SELECT": True,
                "INSERT": False,
                "UPDATE": False,
                "DELETE": False,
                "TRUNCATE": False,
            }, label
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [TRUNCATE_TRIGGER, table],
            )
            assert cursor.fetchone()[0] == 1


def test_a_month_whose_every_row_is_past_its_period_is_dropped_whole(leaver, travel):
    """Every customer with payments in January 2025 left, long enough ago: the whole month
    goes as one partition, not row by row. A month with one row still kept stays."""
    from banking.models import transaction_partitions

    account = Account.objects.get(customer=leaver)
    TransactionFactory(account=account, booked_at=dt.datetime(2025, 1, 10, 12, tzinfo=dt.UTC))
    stayer_account = AccountFactory()
    TransactionFactory(
        account=stayer_account, booked_at=dt.datetime(2025, 2, 10, 12, tzinfo=dt.UTC)
    )
    names = {p.name for p in transaction_partitions()}
    assert {"offers_transaction_y2025m01", "offers_transaction_y2025m02"} <= names
    left = leaver.closed_on
    travel(left.replace(year=left.year + 7))
    out = run()
    names = {p.name for p in transaction_partitions()}
    assert "offers_transaction_y2025m01" not in names  # everyone in it is past
    assert "offers_transaction_y2025m02" in names  # a customer who stays
    assert Transaction.objects.filter(account=stayer_account).exists()
    assert not Transaction.objects.filter(account=account).exists()
    assert "months" in out


def test_a_departure_backdated_by_the_runtime_role_does_not_make_a_chain_removable(
    db, grant, travel
):
    """Two dormant customers whose last choice was six years ago. With the runtime role one
    is closed as of that day (close_customer takes a past day), the other gets `closed_on`
    written by hand. Retention counts from the day the log took a departure in, never from
    a column: neither chain can go for five years."""
    long_ago = JOINED.replace(year=JOINED.year - 6)
    travel(long_ago)
    closed, edited = (
        CustomerFactory(customer_number="840010"),
        CustomerFactory(customer_number="840011"),
    )
    for customer in (closed, edited):
        grant(customer, "offers_spending")
    travel(JOINED)
    close_customer(customer=closed, on=long_ago, at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE consent_customer SET closed_on = %s WHERE id = %s", [long_ago, edited.pk]
        )
    checkpoint()
    assert "0 removed or pseudonymised in all" in run()
    for customer in (closed, edited):
        assert "not past its retention period" in refused(
            "SELECT remove_consent_proof(%s, %s)", [customer.pk, JOINED]
        )
        assert ConsentEvent.objects.filter(customer=customer).exists()


def test_webhook_deliveries_and_their_log_go_with_the_feed_rows(leaver, stayer, travel):
    """A delivery names a feed row (and so a customer): the database removes it, and the
    log of its attempts, when the owner's function removes the customer's feed rows."""
    from api.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
    from tests.api.conftest import register_system

    now = timezone.now()
    endpoint = WebhookEndpoint.objects.create(
        application=register_system(),
        url="https://crm.bank.example/hooks",
        secret="whsec_" + "A" * 43 + "=",
        registered_by=UserFactory(username="petra"),
        registered_at=now,
        approved_by=UserFactory(username="pieter"),
        approved_at=now,
    )
    for change in ConsentChange.objects.filter(customer__in=[leaver, stayer]):
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, change=change, due_at=now, created_at=now
        )
        WebhookAttempt.objects.create(
            delivery=delivery, number=1, attempted_at=now, status_code=500, duration_ms=3
        )
    kept = WebhookDelivery.objects.filter(change__customer=stayer).count()
    assert WebhookDelivery.objects.filter(change__customer=leaver).exists() and kept
    left = leaver.closed_on
    travel(left.replace(year=left.year + 5))
    run()
    assert not ConsentChange.objects.filter(customer=leaver).exists()
    assert WebhookDelivery.objects.count() == kept
    assert WebhookAttempt.objects.count() == kept
