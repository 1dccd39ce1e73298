"""Proving an event: where it is in the log, and the path from it to a signed checkpoint.

`prove(event)` is what a receipt carries (`proof`): the event's entry (RFC 8785 JSON, salt
included), its leaf index, the inclusion proof (RFC 9162) up to the newest checkpoint,
and that checkpoint's signed note with the witnesses' cosignatures. With the bank's
public key alone, anyone checks it: `python -m ledger.verify receipt FILE`
(docs/ledger.md). Until a checkpoint takes the event in, the proof is pending.

`prove_many` proves a customer's whole history in four queries, whatever its length.
"""

from collections.abc import Iterable
from typing import TypedDict

from . import checkpoints, log, merkle, note
from .models import ConsentEvent, LogLeaf


class Proof(TypedDict, total=False):
    status: str  # "included" or "pending"
    entry: str
    leafIndex: int
    treeSize: int
    inclusionProof: list[str]
    checkpoint: str


def prove(event: ConsentEvent) -> Proof:
    return prove_many([event])[event.pk]


def prove_many(events: Iterable[ConsentEvent]) -> dict[int, Proof]:
    events = list(events)
    leaves = dict(
        LogLeaf.objects.filter(event_id__in=[e.pk for e in events]).values_list("event_id", "index")
    )
    newest = checkpoints.newest()
    size = newest.size if newest else 0
    included = {e.pk: leaves[e.pk] for e in events if leaves.get(e.pk, size) < size}
    # Every node any of the proofs needs, read at once.
    reader = log.NodeReader()
    needed: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        needed.append((level, index))
        return bytes(32)

    for index in included.values():
        merkle.inclusion_proof(
            index, size, lambda start, end: merkle.subtree_from_nodes(start, end, record)
        )
    # The leaves themselves too: one query whatever the proofs need (a one-leaf tree
    # needs no node), so a page costs the same for every history.
    reader.fetch([*needed, *((0, index) for index in included.values())])
    proofs: dict[int, Proof] = {}
    for event in events:
        if event.pk not in included or newest is None:
            proofs[event.pk] = {"status": "pending", "entry": event.entry}
            continue
        path = merkle.inclusion_proof(
            included[event.pk],
            size,
            lambda start, end: merkle.subtree_from_nodes(start, end, reader.get),
        )
        proofs[event.pk] = {
            "status": "included",
            "entry": event.entry,
            "leafIndex": included[event.pk],
            "treeSize": size,
            "inclusionProof": [note.b64encode(node) for node in path],
            "checkpoint": newest.note,
        }
    return proofs
