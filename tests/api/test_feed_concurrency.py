"""Choices and the feed's job under concurrency: no deadlock, no false rows.

Every writer takes its locks in one order (the customer's row FOR NO KEY UPDATE, then the
feed lock; `api/changes.py`). These tests run real transactions on separate connections,
in threads, against the test database."""

import datetime as dt
import threading

import psycopg
import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from api.changes import FEED_LOCK, record_consent_changes
from api.models import ConsentChange
from consent import validity
from consent.choices import notice_on_screen, record_choice
from consent.models import ConsentState, Purpose
from ledger.models import Action, Channel, ConsentEvent
from tests.choices import choose_on_screen
from tests.connections import runtime_connection
from tests.factories import CustomerFactory

concurrent = pytest.mark.django_db(transaction=True)


def wait_until_someone_waits_for_the_feed_lock(observer: psycopg.Connection) -> None:
    """Until another session waits for the feed's advisory lock (no sleeping guesses)."""
    for _ in range(2000):
        waiting = observer.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND objid = %s",
            [FEED_LOCK],
        ).fetchone()[0]
        if waiting:
            return
        observer.execute("SELECT pg_sleep(0.005)")
    pytest.fail("nobody ever waited for the feed lock")


def wait_until_someone_waits_for_a_lock(observer: psycopg.Connection) -> None:
    for _ in range(2000):
        if observer.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()[0]:
            return
        observer.execute("SELECT pg_sleep(0.005)")
    pytest.fail("nobody ever waited for a lock")


def in_thread(function, *args, **kwargs):
    """Run `function` in a thread with its own database connection; (thread, outcome)."""
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["result"] = function(*args, **kwargs)
        except Exception as error:  # the test reads it
            outcome["error"] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


@concurrent
def test_a_choice_waiting_for_the_feed_lock_does_not_deadlock_with_the_job():
    """The job holds the feed lock and has inserted a row about Sanne; Sanne chooses (she
    locks her row, then waits for the feed lock); the job commits, its foreign key to her
    row is checked then. Before, the choice held her row FOR UPDATE and the check waited
    for it while the choice waited for the job: PostgreSQL aborted one ("deadlock
    detected") and Sanne read "NIET opgeslagen"."""
    sanne = CustomerFactory()
    purpose = Purpose.objects.get(code="offers_spending")
    job, observer = runtime_connection(), runtime_connection()
    observer.autocommit = True
    with job.transaction():
        job.execute("SELECT pg_advisory_xact_lock(%s)", [FEED_LOCK])
        job.execute(
            "INSERT INTO api_consentchange (customer_id, purpose_id, may_use, kind,"
            " effective_at, recorded_at) VALUES (%s, %s, false, 'reconciled', now(), now())",
            [sanne.pk, purpose.pk],
        )
        at = timezone.now()
        thread, outcome = in_thread(choose_on_screen, sanne, "offers_spending", at=at)
        wait_until_someone_waits_for_the_feed_lock(observer)
    thread.join(timeout=60)
    job.close()
    observer.close()
    assert "error" not in outcome, outcome.get("error")
    assert ConsentEvent.objects.filter(customer=sanne, action=Action.GRANTED).exists()


@concurrent
def test_choices_and_the_job_at_full_speed_never_deadlock_and_lose_nothing():
    customers = [CustomerFactory() for _ in range(4)]
    codes = ("offers_spending", "offers_income", "offers_balance")
    stop = threading.Event()
    errors: list[BaseException] = []

    def job():
        try:
            while not stop.is_set():
                record_consent_changes(now=timezone.now())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    def choices(customer, offset):
        try:
            for i in range(24):
                action = Action.GRANTED if i % 2 == 0 else Action.WITHDRAWN
                choose_on_screen(customer, codes[(i // 2 + offset) % 3], action, at=timezone.now())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=job)] + [
        threading.Thread(target=choices, args=(customer, n)) for n, customer in enumerate(customers)
    ]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(timeout=300)
    stop.set()
    threads[0].join(timeout=60)
    assert errors == []
    assert ConsentEvent.objects.count() == 4 * 24  # every choice in the ledger
    # Every feed row says what validity says at the moment the row takes effect, judged
    # from the ledger: the latest event at or before that moment.
    for row in ConsentChange.objects.select_related("purpose").order_by("id"):
        latest = (
            ConsentEvent.objects.filter(
                customer_id=row.customer_id,
                purpose_id=row.purpose_id,
                occurred_at__lte=row.effective_at,
            )
            .order_by("-sequence")
            .first()
        )
        expected = latest is not None and latest.action == Action.GRANTED
        assert row.may_use == expected, (row.kind, row.effective_at, latest)


@concurrent
def test_the_job_leaves_alone_a_choice_that_committed_after_its_moment():
    """The job was given its moment; a grant committed a second later, before the job got
    the feed lock. It wrote its own row ("may use"); the job must not add "may not use,
    expired" because the consent was given after the job's moment."""
    sanne = CustomerFactory()
    moment = timezone.now()
    choose_on_screen(sanne, "offers_spending", at=moment + dt.timedelta(seconds=1))
    assert record_consent_changes(now=moment) == []
    assert list(ConsentChange.objects.values_list("kind", "may_use")) == [("granted", True)]


def test_validity_names_every_reason_and_never_guesses(customer_who_consented, now):
    state = validity.annotate_validity(
        ConsentState.objects.filter(customer=customer_who_consented).select_related(
            "purpose", "purpose_version"
        ),
        at=now - dt.timedelta(days=30),
    ).get()
    # Granted ten days ago: at a moment before that it does not count, and not because
    # it expired.
    reason = validity.why_not_valid(state, customer_who_consented, at=now - dt.timedelta(days=30))
    assert reason == validity.NOT_YET


def test_an_event_from_a_clock_that_runs_ahead_is_refused(db):
    """A host whose clock runs ten minutes ahead records nothing "from the future": the
    database compares with its own clock."""
    sanne = CustomerFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT clock_timestamp() + interval '10 minutes'")
        (ahead,) = cursor.fetchone()
    with pytest.raises(Exception, match="lies in the future"), transaction.atomic():
        record_choice(
            customer=sanne,
            purpose_code="offers_spending",
            action=Action.GRANTED,
            channel=Channel.WEB,
            actor=sanne.user,
            at=ahead,
            **notice_on_screen(purpose_code="offers_spending", at=ahead),
        )
    assert not ConsentEvent.objects.filter(customer=sanne).exists()


def test_a_chain_runs_in_time_order(customer_who_consented, now):
    """An event older than the customer's newest one is refused: the order of a chain is
    the order of time, so 'the latest event at a moment' means one thing."""
    from ledger.chain import OutOfOrder

    with pytest.raises(OutOfOrder):
        choose_on_screen(customer_who_consented, "offers_income", at=now - dt.timedelta(days=20))
    assert ConsentEvent.objects.filter(customer=customer_who_consented).count() == 1


@concurrent
def test_two_choices_of_one_customer_at_once_are_both_recorded_in_time_order():
    """Two tabs: the choice stamped a millisecond later takes Sanne's lock first; the
    earlier one waits for it. It is recorded right after the other, not refused as out of
    order (before: a 500 page, "NIET opgeslagen", for a choice nothing was wrong with)."""
    sanne = CustomerFactory()
    earlier = timezone.now()
    later = earlier + dt.timedelta(milliseconds=1)
    release = threading.Event()

    def first_tab():
        with transaction.atomic():
            choose_on_screen(sanne, "offers_income", at=later)
            release.wait(timeout=30)

    observer = runtime_connection()
    observer.autocommit = True
    first, first_outcome = in_thread(first_tab)
    for _ in range(2000):  # until the first tab holds the lock with its event written
        if observer.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            " WHERE c.relname = 'consent_consentevent' AND l.mode = 'RowExclusiveLock'"
        ).fetchone()[0]:
            break
        observer.execute("SELECT pg_sleep(0.005)")
    second, second_outcome = in_thread(choose_on_screen, sanne, "offers_spending", at=earlier)
    wait_until_someone_waits_for_a_lock(observer)
    release.set()
    first.join(timeout=60)
    second.join(timeout=60)
    observer.close()

    assert "error" not in first_outcome, first_outcome.get("error")
    assert "error" not in second_outcome, second_outcome.get("error")
    income, spending = ConsentEvent.objects.filter(customer=sanne).order_by("sequence")
    assert (income.purpose.code, spending.purpose.code) == ("offers_income", "offers_spending")
    assert spending.occurred_at == income.occurred_at + dt.timedelta(microseconds=1)
    state = ConsentState.objects.get(customer=sanne, purpose__code="offers_spending")
    assert state.changed_at == spending.occurred_at
