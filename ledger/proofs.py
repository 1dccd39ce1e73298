"""Proving an event: where it is in the log, and the path from it to a signed checkpoint.

`prove(event)` is what a receipt carries (`proof`): the event's entry (RFC 8785 JSON, salt
included), its leaf index, the inclusion proof (RFC 9162) up to the newest checkpoint,
and that checkpoint's signed note with the witnesses' cosignatures. With the bank's
public key alone, anyone checks it: `python -m ledger.verify receipt FILE`
(docs/ledger.md). Until a checkpoint takes the event in, the proof is pending.

`prove_many` proves a customer's whole history in two round trips (the leaves and
the newest checkpoint, then the tree's nodes), whatever its length.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypedDict

from infra.precompiled import Precompiled, instance

from . import checkpoints, log, merkle, note
from .models import Checkpoint, ConsentEvent, LogLeaf


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
    # Each event's key read once (`pk` is a property): this runs for a whole history.
    keys = [event.pk for event in events]
    leaves, newest = _leaf_indexes_and_newest(keys)
    size = newest.size if newest else 0
    included = {key: leaves[key] for key in keys if leaves.get(key, size) < size}
    # Every node any of the proofs needs, read at once. The proofs are into one tree, so
    # they share most of their subtrees (a history's leaves are near each other): each
    # subtree is worked out once for all of them, not once per event.
    reader = log.NodeReader()
    needed: list[tuple[int, int]] = []
    asked: set[tuple[int, int]] = set()

    def record(level: int, index: int) -> bytes:
        needed.append((level, index))
        return bytes(32)

    def first_pass(start: int, end: int) -> bytes:
        if (start, end) not in asked:
            asked.add((start, end))
            merkle.subtree_from_nodes(start, end, record)
        return bytes(32)

    for index in included.values():
        merkle.inclusion_proof(index, size, first_pass)
    # The leaves themselves too: one query whatever the proofs need (a one-leaf tree
    # needs no node), so a page costs the same for every history.
    reader.fetch([*needed, *((0, index) for index in included.values())])
    nodes: dict[tuple[int, int], bytes] = {}

    def subtree(start: int, end: int) -> bytes:
        if (start, end) not in nodes:
            nodes[(start, end)] = merkle.subtree_from_nodes(start, end, reader.get)
        return nodes[(start, end)]

    proofs: dict[int, Proof] = {}
    for key, event in zip(keys, events, strict=True):
        if key not in included or newest is None:
            proofs[key] = {"status": "pending", "entry": event.entry}
            continue
        path = merkle.inclusion_proof(included[key], size, subtree)
        proofs[key] = {
            "status": "included",
            "entry": event.entry,
            "leafIndex": included[key],
            "treeSize": size,
            "inclusionProof": [note.b64encode(node) for node in path],
            "checkpoint": newest.note,
        }
    return proofs


def _leaf_indexes_and_newest(
    event_ids: list[int],
) -> tuple[dict[int, int], Checkpoint | None]:
    """The log's leaf index of each event that has one (one statement, however many),
    and the newest checkpoint (`checkpoints.newest`): both in one round trip."""
    leaves, newest = _LEAF_INDEXES.rows_with(checkpoints.NEWEST, inputs={"event_ids": event_ids})
    return dict(leaves), instance(Checkpoint, newest[0]) if newest else None


_LEAF_INDEXES = Precompiled(
    sql=f"SELECT event_id, index FROM {LogLeaf._meta.db_table} WHERE event_id = ANY(%s)",
    slots=(("event_ids", None),),
)


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
