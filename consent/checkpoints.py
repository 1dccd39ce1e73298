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
"""

import datetime as dt
import gzip
import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from django.db import connection

from .keys import public_key_hex, signing_key
from .models import ConsentEvent, Customer

FORMAT = 1


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
    sql = HEADS_SQL.format(event=ConsentEvent._meta.db_table, customer=Customer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(10_000):
            for number, sequence, hash_ in rows:
                yield Head(number, sequence, hash_)


# --- RFC 9162 Merkle tree hash, computed in one pass -------------------------------------
def _leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class MerkleTree:
    """Streams leaves in and gives the RFC 9162 root: perfect subtrees are merged as they
    fill up, so memory is logarithmic in the number of heads."""

    def __init__(self):
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
def canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_files(directory: Path) -> list[Path]:
    return sorted(Path(directory).glob("checkpoint-*.json"))


def write_checkpoint(*, directory: Path, at: dt.datetime) -> Path:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"checkpoint-{at.astimezone(dt.UTC):%Y%m%dT%H%M%S%fZ}"
    heads_path = directory / f"{name}.heads.tsv.gz"
    tree, heads_hash = MerkleTree(), hashlib.sha256()
    events = ConsentEvent.objects.count()
    with gzip.open(heads_path, "wb") as heads:
        for head in chain_heads():
            line = head.line()
            heads.write(line + b"\n")
            heads_hash.update(line + b"\n")
            tree.add(line)
    previous = checkpoint_files(directory)
    checkpoint = {
        "format": FORMAT,
        "created_at": at.astimezone(dt.UTC).isoformat(),
        "events": events,
        "customers": tree.size,
        "heads_file": heads_path.name,
        "heads_sha256": heads_hash.hexdigest(),
        "merkle_root": tree.root(),
        "previous_checkpoint_sha256": _file_sha256(previous[-1]) if previous else None,
        "public_key": public_key_hex(),
    }
    signature = signing_key().sign(canonical(checkpoint)).hex()
    path = directory / f"{name}.json"
    path.write_text(json.dumps({"checkpoint": checkpoint, "signature": signature}, indent=2))
    return path


def _file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# --- Verifying ----------------------------------------------------------------------------
@dataclass
class CheckpointReport:
    checked: int
    problems: list[str]  # about the checkpoint files themselves
    customers: dict[str, list[str]]  # customer number -> what differs from the newest one
    newest: dict | None


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
    problems, newest, previous_path = [], None, None
    files = checkpoint_files(directory)
    for path in files:
        document = json.loads(path.read_text())
        checkpoint = document["checkpoint"]
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
        heads_hash = hashlib.sha256()
        for head in read_heads(heads_path):
            heads_hash.update(head.line() + b"\n")
        if heads_hash.hexdigest() != checkpoint["heads_sha256"]:
            problems.append(f"{path.name}: heads file was changed")
            continue
        if merkle_root(h.line() for h in read_heads(heads_path)) != checkpoint["merkle_root"]:
            problems.append(f"{path.name}: Merkle root does not match the heads")
            continue
        newest, previous_path = (checkpoint, heads_path), path
    customers: dict[str, list[str]] = {}
    if newest is not None:
        customers = compare_with_database(*newest)
    return CheckpointReport(
        checked=len(files),
        problems=problems,
        customers=customers,
        newest=newest[0] if newest else None,
    )


COMPARE_SQL = """
SELECT h.customer_number, h.sequence, h.hash, c.id IS NOT NULL,
       (SELECT max(e.sequence) FROM {event} e WHERE e.customer_id = c.id),
       (SELECT e.hash FROM {event} e WHERE e.customer_id = c.id AND e.sequence = h.sequence)
  FROM checkpoint_head h
  LEFT JOIN {customer} c ON c.customer_number = h.customer_number
"""


def compare_with_database(checkpoint: dict, heads_path: Path) -> dict[str, list[str]]:
    """Customer number -> how their chain differs from the checkpoint: deleted tail,
    deleted customer, or rewritten. Set-based: the heads go in with COPY."""
    found: dict[str, list[str]] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM " + ConsentEvent._meta.db_table)
        (events,) = cursor.fetchone()
        if checkpoint["events"] and not events:
            found["*"] = [
                f"the ledger is empty, but the checkpoint of {checkpoint['created_at']}"
                f" holds {checkpoint['events']} events"
            ]
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS checkpoint_head"
            " (customer_number text, sequence integer, hash text)"
        )
        cursor.execute("TRUNCATE checkpoint_head")
        with cursor.copy("COPY checkpoint_head FROM STDIN") as copy:
            for head in read_heads(heads_path):
                copy.write_row((head.customer_number, head.sequence, head.hash))
        cursor.execute(
            COMPARE_SQL.format(event=ConsentEvent._meta.db_table, customer=Customer._meta.db_table)
        )
        for number, sequence, hash_, exists, last, hash_now in cursor.fetchall():
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
        cursor.execute("DROP TABLE checkpoint_head")
    return found
