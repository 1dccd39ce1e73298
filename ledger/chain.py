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
import json
import secrets
from typing import TYPE_CHECKING, Any, Protocol

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
) -> ConsentEvent:
    """Append one event to the customer's chain (the caller holds the customer's lock).
    The event's `occurred_at` is `at`, or a microsecond after the chain's newest event if
    that is later by no more than `WAITED_FOR_LOCK`: callers go on with `occurred_at`."""
    check_chain_key()
    previous = (
        ConsentEvent.objects.filter(customer_id=customer.pk)
        .order_by("-sequence")
        .values_list("sequence", "hash", "occurred_at")
        .first()
    )
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
    event.save(force_insert=True)
    return event


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
