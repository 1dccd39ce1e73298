"""Signed checkpoints of every chain head, after Certificate Transparency's signed tree
heads (RFC 9162) and ledger databases' digests.

A checkpoint is two files in LEDGER_CHECKPOINT_DIR:

- `<name>.heads.tsv.gz`: one line per customer, `customer_number<TAB>sequence<TAB>hash`
  of the newest event of their chain, sorted by customer number;
- `<name>.json`: `{"checkpoint": {...}, "signature": "<hex>"}` where the checkpoint holds
  the time, the number of events and customers, the SHA-256 of the heads file, the Merkle
  root over the heads (RFC 9162 tree hash: leaf = SHA-256(0x00 || line), node =
  SHA-256(0x01 || left || right)), the SHA-256 of the previous checkpoint file (so a
  removed checkpoint is noticed) and the public key; the signature is Ed25519 over the
  canonical JSON of the checkpoint.

Someone who can write to the database but does not hold the signing key can delete or
rewrite events, but the newest checkpoint still remembers every chain's head: the
verifier names each customer whose chain is now shorter, missing or different.

Retention removes whole chains (issue #14), each with a tombstone (`LedgerTombstone`:
customer number, events, last sequence and hash). From format 2 on, a checkpoint's signed
data lists the tombstones written since the checkpoint before it (`tombstones`, up to id
`tombstones_through`). The verifier accepts a chain that is gone after the newest
checkpoint only when a tombstone names exactly the head that checkpoint signed, names
every tombstone that a signed checkpoint should have listed but did not (written
afterwards), and every signed one that is gone; `ledger.audit` names a tombstone that
no retention period justifies.
"""

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

from django.db import connection
from django.utils import timezone

from .keys import public_key_hex, signing_key
from .models import ConsentEvent, LedgerTombstone

FORMAT = 2


class TombstoneEntry(TypedDict):
    """A tombstone as a checkpoint signs it."""

    id: int
    customer_number: str
    events: int
    last_sequence: int
    last_hash: str
    reason: str
    as_of: str  # ISO date
    removed_at: str  # ISO time, UTC


class Checkpoint(TypedDict):
    """The signed data of a checkpoint (`<name>.json`'s "checkpoint")."""

    format: int
    created_at: str  # ISO time, UTC
    events: int
    customers: int
    heads_file: str
    heads_sha256: str
    merkle_root: str
    previous_checkpoint_sha256: str | None
    public_key: str
    # From format 2 on.
    tombstones: NotRequired[list[TombstoneEntry]]
    tombstones_through: NotRequired[int]


@dataclass(frozen=True)
class Head:
    customer_number: str
    sequence: int
    hash: str

    def line(self) -> bytes:
        return f"{self.customer_number}\t{self.sequence}\t{self.hash}".encode()


HEADS_SQL = """
SELECT c.customer_number, h.sequence, h.hash
  FROM (SELECT DISTINCT ON (customer_id) customer_id, sequence, hash
          FROM {event} ORDER BY customer_id, sequence DESC) h
  JOIN {customer} c ON c.id = h.customer_id
 ORDER BY c.customer_number
"""


def chain_heads() -> Iterator[Head]:
    sql = HEADS_SQL.format(event=ConsentEvent._meta.db_table, customer=_customer_table())
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(10_000):
            for number, sequence, hash_ in rows:
                yield Head(number, sequence, hash_)


def _customer_table() -> str:
    return ConsentEvent._meta.get_field("customer").related_model._meta.db_table


# --- RFC 9162 Merkle tree hash, computed in one pass -------------------------------------
def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """Streams leaves in and gives the RFC 9162 root: perfect subtrees are merged as they
    fill up, so memory is logarithmic in the number of heads."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (size, root) of perfect subtrees
        self.size = 0

    def add(self, data: bytes) -> None:
        size, node = 1, _leaf(data)
        while self._stack and self._stack[-1][0] == size:
            left_size, left = self._stack.pop()
            size, node = left_size + size, _node(left, node)
        self._stack.append((size, node))
        self.size += 1

    def root(self) -> str:
        if not self._stack:
            return hashlib.sha256(b"").hexdigest()
        node = self._stack[-1][1]
        for _size, left in reversed(self._stack[:-1]):
            node = _node(left, node)
        return node.hex()


def merkle_root(lines: Iterable[bytes]) -> str:
    tree = MerkleTree()
    for line in lines:
        tree.add(line)
    return tree.root()


# --- Writing ------------------------------------------------------------------------------
def canonical(data: Mapping[str, object]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("checkpoint-*.json"))


def write_checkpoint(*, directory: Path, at: dt.datetime) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"checkpoint-{at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}"
    heads_path = directory / f"{name}.heads.tsv.gz"
    # Tombstones before heads: a chain removed in between is then missing from the heads
    # and its tombstone goes into the next checkpoint, never the other way round.
    previous = checkpoint_files(directory)
    tombstones, through = _tombstones_since(previous[-1] if previous else None)
    tree, heads_hash = MerkleTree(), hashlib.sha256()
    events = ConsentEvent.objects.count()
    with gzip.open(heads_path, "wb") as heads:
        for head in chain_heads():
            line = head.line()
            heads.write(line + b"\n")
            heads_hash.update(line + b"\n")
            tree.add(line)
    checkpoint: Checkpoint = {
        "format": FORMAT,
        "created_at": at.astimezone(dt.UTC).isoformat(),
        "events": events,
        "customers": tree.size,
        "heads_file": heads_path.name,
        "heads_sha256": heads_hash.hexdigest(),
        "merkle_root": tree.root(),
        "previous_checkpoint_sha256": _file_sha256(previous[-1]) if previous else None,
        "public_key": public_key_hex(),
        "tombstones": tombstones,
        "tombstones_through": through,
    }
    signature = signing_key().sign(canonical(checkpoint)).hex()
    path = directory / f"{name}.json"
    path.write_text(json.dumps({"checkpoint": checkpoint, "signature": signature}, indent=2))
    return path


def _tombstone_entry(tombstone: LedgerTombstone) -> TombstoneEntry:
    return {
        "id": tombstone.pk,
        "customer_number": tombstone.customer_number,
        "events": tombstone.events,
        "last_sequence": tombstone.last_sequence,
        "last_hash": tombstone.last_hash,
        "reason": tombstone.reason,
        "as_of": tombstone.as_of.isoformat(),
        "removed_at": tombstone.removed_at.astimezone(dt.UTC).isoformat(),
    }


def _tombstones_since(previous: Path | None) -> tuple[list[TombstoneEntry], int]:
    """The tombstones written since the previous checkpoint, and the highest id now.
    (`enforce_retention` runs one at a time, so tombstone ids commit in order.)"""
    through = 0
    if previous is not None:
        signed: Checkpoint = json.loads(previous.read_text())["checkpoint"]
        through = signed.get("tombstones_through", 0)
    new = list(LedgerTombstone.objects.filter(pk__gt=through).order_by("pk"))
    return [_tombstone_entry(t) for t in new], (new[-1].pk if new else through)


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- Verifying ----------------------------------------------------------------------------
@dataclass
class CheckpointReport:
    checked: int
    problems: list[str]  # about the checkpoint files themselves
    customers: dict[str, list[str]]  # customer number -> what differs from the newest one
    newest: Checkpoint | None


def read_heads(path: Path) -> Iterator[Head]:
    with gzip.open(path, "rb") as heads:
        for raw in heads:
            number, sequence, hash_ = raw.rstrip(b"\n").decode().split("\t")
            yield Head(number, int(sequence), hash_)


def verify_checkpoints(directory: Path, *, public_key: str | None = None) -> CheckpointReport:
    """Every checkpoint's signature, heads file, Merkle root and link to the one before;
    then the newest checkpoint against the database."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    public_key = public_key or public_key_hex()
    verifier = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key))
    problems: list[str] = []
    newest: tuple[Checkpoint, Path] | None = None
    previous_path: Path | None = None
    signed_tombstones: dict[int, TombstoneEntry] = {}
    between: dict[str, list[str]] = {}
    files = checkpoint_files(directory)
    for path in files:
        document = json.loads(path.read_text())
        checkpoint: Checkpoint = document["checkpoint"]
        try:
            verifier.verify(bytes.fromhex(document["signature"]), canonical(checkpoint))
        except (InvalidSignature, ValueError):
            problems.append(f"{path.name}: signature does not verify with the public key")
            continue
        expected_previous = _file_sha256(previous_path) if previous_path else None
        if checkpoint["previous_checkpoint_sha256"] != expected_previous:
            problems.append(f"{path.name}: the checkpoint before it is missing or was changed")
        heads_path = path.parent / checkpoint["heads_file"]
        if not heads_path.is_file():
            problems.append(f"{path.name}: heads file {heads_path.name} is missing")
            continue
        # One pass, as `write_checkpoint` made them: the file's hash and the Merkle tree.
        tree, heads_hash = MerkleTree(), hashlib.sha256()
        for head in read_heads(heads_path):
            line = head.line()
            heads_hash.update(line + b"\n")
            tree.add(line)
        if heads_hash.hexdigest() != checkpoint["heads_sha256"]:
            problems.append(f"{path.name}: heads file was changed")
            continue
        if tree.root() != checkpoint["merkle_root"]:
            problems.append(f"{path.name}: Merkle root does not match the heads")
            continue
        if newest is not None:
            for number, reason in compare_consecutive(newest, (checkpoint, heads_path)):
                between.setdefault(number, []).append(reason)
        newest, previous_path = (checkpoint, heads_path), path
        signed_on = timezone.localdate(dt.datetime.fromisoformat(checkpoint["created_at"]))
        for entry in checkpoint.get("tombstones", ()):
            signed_tombstones[entry["id"]] = entry
            if dt.date.fromisoformat(entry["as_of"]) > signed_on:
                between.setdefault(entry["customer_number"], []).append(
                    f"tombstone {entry['id']} counts from {entry['as_of']}, after the"
                    f" checkpoint of {checkpoint['created_at']} that signed it"
                )
    customers: dict[str, list[str]] = between
    if newest is not None:
        for number, reasons in compare_with_database(*newest).items():
            customers.setdefault(number, []).extend(reasons)
        through = newest[0].get("tombstones_through", 0)
        for number, reasons in compare_tombstones(signed_tombstones, through=through).items():
            customers.setdefault(number, []).extend(reasons)
    return CheckpointReport(
        checked=len(files),
        problems=problems,
        customers=customers,
        newest=newest[0] if newest else None,
    )


def compare_consecutive(
    earlier: tuple[Checkpoint, Path], later: tuple[Checkpoint, Path]
) -> Iterator[tuple[str, str]]:
    """(customer number, reason) for each chain of the earlier checkpoint that the later
    one has lost without its own tombstone saying so, has shortened or has rewritten: a
    removal that a later checkpoint signed as if nothing happened. Both heads files are
    sorted by customer number, so one merge pass."""
    (first, first_heads), (second, second_heads) = earlier, later
    removed = {
        (t["customer_number"], t["last_sequence"], t["last_hash"])
        for t in second.get("tombstones", ())
    }
    when = f"between the checkpoints of {first['created_at']} and {second['created_at']}"
    lookup: Callable[[str], Head | None]
    if not (_sorted(first_heads) and _sorted(second_heads)):
        # The database sorted the numbers otherwise than Python does (letters, '-'):
        # look the later heads up instead of merging.
        later_heads = {h.customer_number: h for h in read_heads(second_heads)}
        lookup = later_heads.get
    else:
        lookup = _merged_lookup(read_heads(second_heads))
    for head in read_heads(first_heads):
        current = lookup(head.customer_number)
        if current is None:
            if (head.customer_number, head.sequence, head.hash) not in removed:
                yield head.customer_number, f"chain of {head.sequence} event(s) gone {when}"
        elif current.sequence < head.sequence:
            yield head.customer_number, f"chain shorter {when}: a deleted tail"
        elif current.sequence == head.sequence and current.hash != head.hash:
            yield head.customer_number, f"chain rewritten {when}"


def _sorted(path: Path) -> bool:
    previous = None
    for head in read_heads(path):
        if previous is not None and head.customer_number <= previous:
            return False
        previous = head.customer_number
    return True


def _merged_lookup(heads: Iterator[Head]) -> Callable[[str], Head | None]:
    """For numbers asked in increasing order: the head with that number, or None."""
    state = {"current": next(heads, None)}

    def lookup(number: str) -> Head | None:
        while state["current"] is not None and state["current"].customer_number < number:
            state["current"] = next(heads, None)
        current = state["current"]
        return current if current is not None and current.customer_number == number else None

    return lookup


def compare_tombstones(signed: dict[int, TombstoneEntry], *, through: int) -> dict[str, list[str]]:
    """Tombstones against the signed checkpoints: each signed one is still in the database
    unchanged, and each in the database up to the newest checkpoint's `tombstones_through`
    was signed (a tombstone written afterwards, with an old id, is not)."""
    found: dict[str, list[str]] = {}
    held = {t.pk: _tombstone_entry(t) for t in LedgerTombstone.objects.order_by("pk")}
    for pk, entry in signed.items():
        if held.get(pk) != entry:
            found.setdefault(entry["customer_number"], []).append(
                f"tombstone {pk} of a signed checkpoint is gone or changed"
            )
    for pk, entry in held.items():
        if pk <= through and pk not in signed:
            found.setdefault(entry["customer_number"], []).append(
                f"tombstone {pk} is in no signed checkpoint, though older than the newest one"
            )
    return found


# `covered`: a tombstone written since the checkpoint names exactly the head it signed.
COMPARE_SQL = """
SELECT h.customer_number, h.sequence, h.hash, c.id IS NOT NULL,
       (SELECT max(e.sequence) FROM {event} e WHERE e.customer_id = c.id),
       (SELECT e.hash FROM {event} e WHERE e.customer_id = c.id AND e.sequence = h.sequence),
       EXISTS (SELECT FROM {tombstone} t
                WHERE t.customer_id = c.id AND t.customer_number = h.customer_number
                  AND t.last_sequence = h.sequence AND t.last_hash = h.hash
                  AND t.id > %s)
  FROM unnest(%s::text[], %s::integer[], %s::text[]) AS h(customer_number, sequence, hash)
  LEFT JOIN {customer} c ON c.customer_number = h.customer_number
"""


def compare_with_database(checkpoint: Checkpoint, heads_path: Path) -> dict[str, list[str]]:
    """Customer number -> how their chain differs from the checkpoint: deleted tail,
    deleted customer, or rewritten. Set-based: the heads go in as three arrays (the
    runtime role may create no temporary table)."""
    found: dict[str, list[str]] = {}
    removed_since = 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM " + ConsentEvent._meta.db_table)
        (events,) = cursor.fetchone()
        heads = list(read_heads(heads_path))
        cursor.execute(
            COMPARE_SQL.format(
                event=ConsentEvent._meta.db_table,
                customer=_customer_table(),
                tombstone=LedgerTombstone._meta.db_table,
            ),
            [
                checkpoint.get("tombstones_through", 0),
                [head.customer_number for head in heads],
                [head.sequence for head in heads],
                [head.hash for head in heads],
            ],
        )
        for number, sequence, hash_, exists, last, hash_now, covered in cursor.fetchall():
            if covered and last is None:
                removed_since += sequence  # removed whole by retention since the checkpoint
                continue
            if not exists or last is None:
                reason = f"deleted: the checkpoint holds a chain of {sequence} event(s)"
            elif last < sequence:
                reason = (
                    f"chain shorter than at the checkpoint ({last} of {sequence} events):"
                    " a deleted tail"
                )
            elif hash_now != hash_:
                reason = f"chain rewritten: event {sequence} differs from the checkpoint"
            else:
                continue
            found.setdefault(number, []).append(reason)
    if checkpoint["events"] > removed_since and not events:
        found["*"] = [
            f"the ledger is empty, but the checkpoint of {checkpoint['created_at']}"
            f" holds {checkpoint['events']} events"
        ]
    return found
