"""Appending to the ledger: the one function that writes a `ConsentEvent`.

Each customer's events form a chain: event n names the hash of event n-1, and its own
`hash` is an HMAC-SHA256 over its fields and that link, under the chain key kept outside
the database (`ledger.keys`). Each event also carries its `entry`, the RFC 8785 JSON of
those fields, the HMAC and a random salt: what the transparency log's leaf hashes
(`ledger.log`).

The caller holds the lock that serialises the customer's choices (the consent app locks
the customer's row), so two events never take the same place in a chain; the unique
(customer, sequence) constraint refuses it anyway.
"""

import datetime as dt
import functools
import json
import secrets
from typing import TYPE_CHECKING, Any, Protocol

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from . import jcs
from .keys import chain_keyring, check_chain_key
from .models import GENESIS_HASH, ConsentEvent, EventNames

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ENTRY_FORMAT = 1


class OutOfOrder(ValueError):
    """An event older than the chain's newest: times run with the chain."""


# A writer takes its time before it waits for the customer's lock; one that waited behind
# a concurrent choice of the same customer (two tabs, the app and the site) finds an event
# a little newer than its own time. Up to this much it is recorded just after that event;
# more means a clock is wrong, and the event is refused.
WAITED_FOR_LOCK = dt.timedelta(seconds=60)


class Subject(Protocol):
    """Whom an event is about: the ledger needs the row and the number it is known by."""

    pk: Any
    customer_number: str


class Purpose(Protocol):
    pk: Any
    code: str


class Version(Protocol):
    pk: Any
    version: int


# The chain's newest event, as `append` links to it: (sequence, hash, occurred_at).
Tail = tuple[int, str, dt.datetime]
# `append`'s `tail` when the caller has not read it: append reads it itself.
UNREAD: Any = object()


def append(
    *,
    customer: Subject,
    purpose: Purpose | None,
    version: Version | None,
    action: str,
    channel: str,
    actor: "User | None",
    at: dt.datetime,
    notice_language: str,
    notice_sha256: str,
    left_on: dt.date | None = None,
    tail: "Tail | None" = UNREAD,
) -> ConsentEvent:
    """Append one event to the customer's chain (the caller holds the customer's lock).
    The event's `occurred_at` is `at`, or a microsecond after the chain's newest event if
    that is later by no more than `WAITED_FOR_LOCK`: callers go on with `occurred_at`.

    `tail`: the chain's newest event (`newest_of_chain`, None for an empty chain) when
    the caller read it already, under the lock it still holds (a choice reads it with
    everything else it needs, in one statement); else it is read here."""
    check_chain_key()
    previous = newest_of_chain(customer.pk) if tail is UNREAD else tail
    sequence, previous_hash = (previous[0] + 1, previous[1]) if previous else (1, GENESIS_HASH)
    if previous is not None and at < previous[2] <= at + WAITED_FOR_LOCK:
        at = previous[2] + dt.timedelta(microseconds=1)
    if previous is not None and previous[2] > at:
        raise OutOfOrder(
            f"an event at {at.isoformat()} after one at {previous[2].isoformat()}: a chain's"
            " events are in time order"
        )
    key = chain_keyring().current
    event = ConsentEvent(
        customer_id=customer.pk,
        purpose_id=purpose.pk if purpose else None,
        purpose_version_id=version.pk if version else None,
        action=action,
        occurred_at=at,
        channel=channel,
        actor=actor,
        notice_language=notice_language,
        notice_sha256=notice_sha256,
        sequence=sequence,
        previous_hash=previous_hash,
        hmac_key=key.fingerprint,
        left_on=left_on,
    )
    names: EventNames = {
        "customer_number": customer.customer_number,
        "purpose_code": purpose.code if purpose else None,
        "version": version.version if version else None,
    }
    event.hash = event.compute_hash(key=key.secret, **names)
    event.entry = entry_of(event, salt=secrets.token_hex(32), **names)
    _insert(event)
    return event


def _insert(event: ConsentEvent) -> None:
    """`event.save(force_insert=True)`, without building and compiling the INSERT on every
    event: the same statement, each value prepared by its field as the ORM prepares it.
    (No model signals: nothing in the project listens to a ConsentEvent's save.)"""
    sql, fields = _insert_statement()
    connection = connections[DEFAULT_DB_ALIAS]
    values = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        (event.pk,) = cursor.fetchone()
    event._state.adding = False
    event._state.db = DEFAULT_DB_ALIAS


@functools.cache
def _insert_statement() -> tuple[str, tuple[Any, ...]]:
    quote = connections[DEFAULT_DB_ALIAS].ops.quote_name
    meta = ConsentEvent._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.pk)
    assert meta.pk and meta.pk.column
    names = ", ".join(quote(str(field.column)) for field in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({names})"
        f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def newest_of_chain(customer_id: Any) -> Tail | None:
    """(sequence, hash, occurred_at) of the customer's newest event; None for no events."""
    return next(iter(newest_of_chain_query(customer_id)), None)


def newest_of_chain_query(customer_id: Any) -> "QuerySet[ConsentEvent, Tail]":
    """The query of `newest_of_chain` (statements that read it with other rows compile it
    once: `consent.choices`)."""
    return (
        ConsentEvent.objects.filter(customer_id=customer_id)
        .order_by("-sequence")
        .values_list("sequence", "hash", "occurred_at")[:1]
    )


def entry_fields(
    event: ConsentEvent,
    *,
    salt: str,
    customer_number: str,
    purpose_code: str | None,
    version: int | None,
) -> dict[str, object]:
    """What the log holds of an event: every field the HMAC covers, the HMAC and the salt."""
    return {
        "format": ENTRY_FORMAT,
        "receipt_id": str(event.receipt_id),
        "customer": customer_number,
        "purpose": purpose_code,
        "version": version,
        "action": event.action,
        "occurred_at": event.occurred_at.astimezone(dt.UTC).isoformat(),
        "channel": event.channel,
        "actor": event.actor_id,
        "notice_language": event.notice_language,
        "notice_sha256": event.notice_sha256,
        "sequence": event.sequence,
        "previous_hash": event.previous_hash,
        "hash": event.hash,
        "key": event.hmac_key,
        "left_on": event.left_on.isoformat() if event.left_on else None,
        "salt": salt,
    }


def entry_of(
    event: ConsentEvent,
    *,
    salt: str,
    customer_number: str,
    purpose_code: str | None,
    version: int | None,
) -> str:
    """The event's entry: RFC 8785 JSON of `entry_fields`."""
    return canonical_text(
        entry_fields(
            event,
            salt=salt,
            customer_number=customer_number,
            purpose_code=purpose_code,
            version=version,
        )
    )


def canonical_text(value: dict[str, object]) -> str:
    return jcs.canonical(value).decode()


def salt_of(entry: str) -> str:
    """The salt an entry was made with (to check the entry against the row)."""
    return str(json.loads(entry)["salt"])
