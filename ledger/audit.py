"""Checking the ledger: every chain intact (order, links, HMACs), and every chain that
retention removed accounted for by a tombstone that a retention period justifies. What
the apps built on the ledger keep about it (the consent state, the notice texts) they
check themselves, as receivers of `ledger.signals.audit`."""

import datetime as dt
from collections.abc import Callable

from django.db import connection

from .keys import chain_keyring
from .models import GENESIS_HASH, ConsentEvent, LedgerTombstone
from .signals import audit

# progress(done, total): told now and then how many events were checked.
Progress = Callable[[int, int], object]


def broken_chains(*, check_hmac: bool = True, progress: Progress | None = None) -> dict[str, str]:
    """Customer number → the first problem found in that customer's chain: a gap, a
    broken link, an HMAC that does not match (changed without the key), an unknown or
    retired key."""
    keyring = chain_keyring() if check_hmac else None
    problems: dict[str, str] = {}
    total = ConsentEvent.objects.count() if progress else 0
    current, expected_sequence, expected_previous = None, 1, GENESIS_HASH
    events = (
        ConsentEvent.objects.select_related("customer", "purpose", "purpose_version")
        .order_by("customer_id", "sequence")
        .iterator(chunk_size=5000)
    )
    for done, event in enumerate(events, start=1):
        if progress and (done % 100_000 == 0 or done == total):
            progress(done, total)
        number = event.customer.customer_number
        if number != current:
            current, expected_sequence, expected_previous = number, 1, GENESIS_HASH
        if number in problems:
            continue
        if event.sequence != expected_sequence:
            problems[number] = (
                f"event {event.pk}: sequence {event.sequence}, expected {expected_sequence}"
            )
        elif event.previous_hash != expected_previous:
            problems[number] = f"event {event.pk}: previous_hash does not match the event before it"
        elif keyring is None:
            pass  # an auditor without the chain key checks order and links only
        elif (key := keyring.find(event.hmac_key)) is None:
            problems[number] = f"event {event.pk}: signed with an unknown chain key"
        elif key.last_event_id is not None and event.pk > key.last_event_id:
            problems[number] = f"event {event.pk}: signed with a key retired before it"
        elif event.hash != event.compute_hash(
            key=key.secret,
            customer_number=number,
            purpose_code=event.purpose.code if event.purpose else None,
            version=event.purpose_version.version if event.purpose_version else None,
        ):
            problems[number] = f"event {event.pk}: hash does not match its contents"
        expected_sequence, expected_previous = event.sequence + 1, event.hash
    return problems


# Every tombstone must stand for a removal that a retention period justifies: the customer
# left, the proof-of-consent period the notices in effect on the removal day state had run
# out by then (`retention_years`, the owner functions' own arithmetic), the removal day is
# not in the future (nor after the signed checkpoint that lists it: ledger.checkpoints),
# and nothing of the chain it names is still there.
TOMBSTONE_SQL = """
SELECT t.customer_number, c.closed_on, t.as_of,
       retention_years('consent_proof', 'relationship_end', t.as_of),
       (SELECT count(*) FROM {event} e WHERE e.customer_id = t.customer_id),
       c.customer_number
  FROM {tombstone} t JOIN {customer} c ON c.id = t.customer_id
 ORDER BY t.id
"""


def unjustified_tombstones() -> dict[str, list[str]]:
    """Customer number -> why their tombstone does not stand for a removal by retention
    (e.g. one an insider wrote to hide a deleted chain)."""
    from django.utils import timezone

    sql = TOMBSTONE_SQL.format(
        event=ConsentEvent._meta.db_table,
        tombstone=LedgerTombstone._meta.db_table,
        customer=LedgerTombstone._meta.get_field("customer").related_model._meta.db_table,
    )
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    today = timezone.localdate()
    for number, closed_on, as_of, years, left, number_now in rows:
        if number_now != number:
            reason = f"tombstone names customer {number}, but that row is now {number_now}"
        elif closed_on is None:
            reason = "tombstone, but the customer never left: no retention period ran out"
        elif years is None:
            reason = f"tombstone, but no notice in effect on {as_of} kept the proof for a period"
        elif add_years(closed_on, years) > as_of:
            reason = (
                f"tombstone too early: left on {closed_on}, proof kept {years} year(s),"
                f" removed as of {as_of}"
            )
        elif as_of > today:
            reason = f"tombstone counts from {as_of}, a day still to come"
        elif left:
            reason = f"tombstone, but {left} event(s) of the chain are still there"
        else:
            continue
        found.setdefault(number, []).append(reason)
    return found


def verify(*, check_hmac: bool = True, progress: Progress | None = None) -> dict[str, list[str]]:
    problems = {
        number: [reason]
        for number, reason in broken_chains(check_hmac=check_hmac, progress=progress).items()
    }
    for number, reasons in unjustified_tombstones().items():
        problems.setdefault(number, []).extend(reasons)
    for _receiver, found in audit.send(sender=ConsentEvent):
        assert isinstance(found, dict)
        for number, reasons in found.items():
            problems.setdefault(number, []).extend(reasons)
    return problems


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later; 29 February moves to 28 February, as
    PostgreSQL's `date + interval 'n years'` does (the owner functions count so too)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
