"""Granting consent for many synthetic customers at once, for the benchmark only.

`record_choice` writes one chained event per call (about a millisecond each); for a
hundred thousand customers the benchmark writes the same rows, with the same hash chain,
in bulk. The dashboard and the engine never take this path.
"""

import datetime as dt
import secrets
import uuid

from consent.models import ConsentState, Purpose
from ledger.chain import entry_of
from ledger.keys import chain_keyring
from ledger.models import GENESIS_HASH, Action, Channel, ConsentEvent


def current_texts_from() -> dict[str, dt.datetime]:
    """When each purpose's newest text was published: the bulk grants are all on it."""
    return {
        purpose.code: max(purpose.versions.all(), key=lambda v: v.version).published_at
        for purpose in Purpose.objects.prefetch_related("versions")
    }


def grant_in_bulk(choices, *, customers_by_number, batch: int = 5000) -> int:
    """`choices`: grants planned by `synthetic.consent_histories` (on the newest texts,
    `current_texts_from`), each customer's in time order."""
    purposes = {p.code: p for p in Purpose.objects.prefetch_related("versions__purpose")}
    versions = {
        code: max(p.versions.all(), key=lambda v: v.version) for code, p in purposes.items()
    }
    hashes = {
        (code, language): version.notice_sha256(language)
        for code, version in versions.items()
        for language in ("nl", "en")
    }
    key = chain_keyring().current
    chains: dict[int, tuple[int, str]] = {}
    events, states = [], []
    for choice in choices:
        assert choice.step == "grant"
        number, code = choice.customer_number, choice.purpose
        customer = customers_by_number[number]
        sequence, previous = chains.get(customer.pk, (0, GENESIS_HASH))
        version = versions[code]
        event = ConsentEvent(
            receipt_id=uuid.uuid4(),
            customer=customer,
            purpose=purposes[code],
            purpose_version=version,
            action=Action.GRANTED,
            occurred_at=choice.at,
            channel=Channel.IMPORT,
            actor=None,
            notice_language=customer.language,
            notice_sha256=hashes[code, "en" if customer.language == "en" else "nl"],
            sequence=sequence + 1,
            previous_hash=previous,
            hmac_key=key.fingerprint,
        )
        names = {"customer_number": number, "purpose_code": code, "version": version.version}
        event.hash = event.compute_hash(key=key.secret, **names)
        # Its entry in the transparency log, as `ledger.chain.append` writes it.
        event.entry = entry_of(event, salt=secrets.token_hex(32), **names)
        chains[customer.pk] = (event.sequence, event.hash)
        events.append(event)
    ConsentEvent.objects.bulk_create(events, batch_size=batch)
    for event in events:
        states.append(
            ConsentState(
                customer_id=event.customer_id,
                purpose_id=event.purpose_id,
                state=event.action,
                purpose_version_id=event.purpose_version_id,
                changed_at=event.occurred_at,
                event=event,
            )
        )
    ConsentState.objects.bulk_create(states, batch_size=batch)
    return len(events)
