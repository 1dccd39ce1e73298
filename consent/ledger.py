"""Checking the ledger: every chain intact, the state table equal to the ledger, and every
chain that retention removed accounted for by a tombstone that a retention period
justifies."""

from collections.abc import Callable

from django.db import connection

from .catalogue import statement_with_hash
from .keys import chain_keyring
from .models import GENESIS_HASH, Action, ConsentEvent, ConsentState, Customer, LedgerTombstone

# progress(done, total): told now and then how many events were checked.
Progress = Callable[[int, int], object]


def notice_sha256_of(event: ConsentEvent) -> str:
    """The hash of the text the event says the customer read, recomputed."""
    if event.purpose_version is None:
        # Any wording ever shown for this action (consent.catalogue keeps them all).
        text = statement_with_hash(event.action, event.notice_language, event.notice_sha256)
        return event.notice_sha256 if text is not None else "no known statement"
    return event.purpose_version.notice_sha256(event.notice_language)


def broken_chains(*, check_hmac: bool = True, progress: Progress | None = None) -> dict[str, str]:
    """Customer number → the first problem found in that customer's chain: a gap, a
    broken link, an HMAC that does not match (changed without the key), an unknown or
    retired key, or a notice hash that is not that of the text the event names."""
    keyring = chain_keyring() if check_hmac else None
    problems: dict[str, str] = {}
    notice_hashes: dict[tuple[int | None, str, str, str | None], str] = {}

    def expected_notice(event: ConsentEvent) -> str:
        # Objections: several wordings may be valid, so their hash is part of the key.
        statement = event.notice_sha256 if event.purpose_version_id is None else None
        key = (event.purpose_version_id, event.action, event.notice_language, statement)
        if key not in notice_hashes:
            notice_hashes[key] = notice_sha256_of(event)
        return notice_hashes[key]

    total = ConsentEvent.objects.count() if progress else 0
    current, expected_sequence, expected_previous = None, 1, GENESIS_HASH
    events = (
        ConsentEvent.objects.select_related("customer", "purpose", "purpose_version__purpose")
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
        elif event.notice_sha256 != expected_notice(event):
            problems[number] = f"event {event.pk}: notice hash is not that of the text it names"
        expected_sequence, expected_previous = event.sequence + 1, event.hash
    return problems


# The latest event per customer and purpose (the objection: purpose NULL), leaving out
# erasure requests, which change no choice (as the state-mirror trigger does).
STATE_MISMATCH_SQL = """
WITH last AS (
    SELECT DISTINCT ON (customer_id, purpose_id)
           id, customer_id, purpose_id, action, purpose_version_id, occurred_at
      FROM {event}
     WHERE action <> '{erasure}'
  ORDER BY customer_id, purpose_id, sequence DESC
)
SELECT c.customer_number
  FROM last l
  FULL JOIN {state} s
    ON s.customer_id = l.customer_id AND s.purpose_id IS NOT DISTINCT FROM l.purpose_id
  JOIN {customer} c ON c.id = COALESCE(l.customer_id, s.customer_id)
 WHERE s.id IS NULL OR l.id IS NULL
    OR s.event_id <> l.id OR s.state <> l.action
    OR s.purpose_version_id IS DISTINCT FROM l.purpose_version_id
    OR s.changed_at <> l.occurred_at
 GROUP BY c.customer_number
"""


def state_mismatches() -> list[str]:
    """Customer numbers whose ConsentState differs from the last event per purpose."""
    sql = STATE_MISMATCH_SQL.format(
        event=ConsentEvent._meta.db_table,
        state=ConsentState._meta.db_table,
        customer=ConsentState._meta.get_field("customer").related_model._meta.db_table,
        erasure=Action.ERASURE_REQUESTED.value,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [number for (number,) in cursor.fetchall()]


# Every tombstone must stand for a removal that a retention period justifies: the customer
# left, the proof-of-consent period the notices in effect on the removal day state had run
# out by then (`retention_years`, the owner functions' own arithmetic), the removal day is
# not in the future (nor after the signed checkpoint that lists it: consent.checkpoints),
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

    from .retention import add_years

    sql = TOMBSTONE_SQL.format(
        event=ConsentEvent._meta.db_table,
        tombstone=LedgerTombstone._meta.db_table,
        customer=Customer._meta.db_table,
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
    for number in state_mismatches():
        problems.setdefault(number, []).append("current state differs from the ledger")
    for number, reasons in unjustified_tombstones().items():
        problems.setdefault(number, []).extend(reasons)
    return problems
