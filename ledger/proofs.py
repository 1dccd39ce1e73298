"""Proving an event: where it is in the log, and the path from it to a signed checkpoint.

`prove(event)` is what a receipt carries (`proof`): the event's entry (RFC 8785 JSON, salt
included), its leaf index, the inclusion proof (RFC 9162) up to the newest checkpoint,
and that checkpoint's signed note with the witnesses' cosignatures. With the bank's
public key alone, anyone checks it: `python -m ledger.verify receipt FILE`
(docs/ledger.md). Until a checkpoint takes the event in, the proof is pending.

`prove_many` proves a customer's whole history in four queries, whatever its length.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Summary:
    """A proof in words, for the readable receipt: where the event is, and which signed
    checkpoint it was proved against."""

    included: bool
    leaf_index: int | None = None
    tree_size: int | None = None
    signed_at: dt.datetime | None = None
    cosigned_by: tuple[str, ...] = ()


def summary(proof: Proof) -> Summary:
    if proof.get("status") != "included":
        return Summary(included=False)
    text, signatures = note.split_note(proof["checkpoint"])
    times = [
        int(line.removeprefix("time "))
        for line in note.parse_checkpoint(text).extensions
        if line.startswith("time ")
    ]
    log_name = text.split("\n", 1)[0]
    return Summary(
        included=True,
        leaf_index=proof["leafIndex"],
        tree_size=proof["treeSize"],
        signed_at=dt.datetime.fromtimestamp(times[0], dt.UTC) if times else None,
        cosigned_by=tuple(s.name for s in signatures if s.name != log_name),
    )
