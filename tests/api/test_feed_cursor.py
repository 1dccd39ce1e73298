"""The cursor is stable: a change that commits late never appears behind a cursor that a
reader already moved past. Real transactions on separate connections."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from api.models import ConsentChange
from consent.choices import notice_on_screen, record_choice
from ledger.models import Action, Channel
from tests.factories import CustomerFactory


def grant(customer, code):
    now = timezone.now()
    return record_choice(
        customer=customer,
        purpose_code=code,
        action=Action.GRANTED,
        channel=Channel.APP,
        actor=customer.user,
        at=now,
        **notice_on_screen(purpose_code=code, at=now),
    )


def waiting_on_the_feed_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND query LIKE %s",
            ["%pg_advisory_xact_lock%"],
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_later_gets_a_later_id_than_one_still_in_flight():
    slow, quick = CustomerFactory(), CustomerFactory()
    slow_has_written, let_slow_commit = threading.Event(), threading.Event()
    failures = []

    def slow_choice():
        try:
            with transaction.atomic():
                grant(slow, "offers_spending")  # its feed row is written, not committed
                slow_has_written.set()
                assert let_slow_commit.wait(timeout=30)
        except Exception as error:  # reported by the main thread
            failures.append(error)
        finally:
            connections.close_all()

    def quick_choice():
        try:
            grant(quick, "offers_income")
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    first = threading.Thread(target=slow_choice)
    first.start()
    assert slow_has_written.wait(timeout=30)
    second = threading.Thread(target=quick_choice)
    second.start()
    # The quick choice waits for the feed until the slow one commits...
    deadline = time.monotonic() + 30
    while not waiting_on_the_feed_lock():
        assert time.monotonic() < deadline, "the second writer never waited for the feed"
        time.sleep(0.02)
    # ...so a reader meanwhile sees neither, rather than the quick one alone.
    assert list(ConsentChange.objects.all()) == []
    let_slow_commit.set()
    first.join(timeout=30)
    second.join(timeout=30)
    assert failures == []
    rows = list(ConsentChange.objects.order_by("id").values_list("customer_id", flat=True))
    assert rows == [slow.pk, quick.pk]
