"""The transparency log in the database: one append-only Merkle tree (RFC 9162) over every
ledger event, in the order the log took them in.

- `sequence()` takes every event not yet in the log in (in id order), as leaves after the
  last one, and stores the perfect subtrees they complete. One writer at a time (an
  advisory lock, which the leaves' trigger takes too), so leaves never race for a place.
  Events commit out of id order; an event that commits late is simply taken in by the
  next run.
- `tree()` is the tree as stored now: its size and root, read from a few stored nodes.
- `inclusion_proof` and `consistency_proof` are served from the stored nodes, in two
  queries whatever the size of the tree.

The leaf of an event is the RFC 9162 leaf hash of its `entry` (RFC 8785 JSON with a
salt), computed by PostgreSQL from the row itself when the log takes it in.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction

from . import merkle
from .models import ConsentEvent, LogLeaf, TreeNode

# The log's lock: the leaves' trigger takes the same one (`hashtext('ledger.log')`).
LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtext('ledger.log'))"

SEQUENCE_SQL = """
INSERT INTO {leaf} (index, hash, event_id)
SELECT %s + row_number() OVER (ORDER BY e.id) - 1,
       encode(sha256('\\x00'::bytea || convert_to(e.entry, 'UTF8')), 'hex'),
       e.id
  FROM {event} e
 WHERE NOT EXISTS (SELECT FROM {leaf} l WHERE l.event_id = e.id)
 ORDER BY e.id
RETURNING index, hash
"""


@dataclass(frozen=True)
class Tree:
    size: int
    root: bytes


def sequence() -> int:
    """Take every event not yet in the log in; return how many."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK_SQL)
        size = stored_size()
        cursor.execute(
            SEQUENCE_SQL.format(leaf=LogLeaf._meta.db_table, event=ConsentEvent._meta.db_table),
            [size],
        )
        new = sorted(cursor.fetchall())
        if not new:
            return 0
        edge = merkle.CompactRange.from_nodes(size, NodeReader().get)
        nodes: list[TreeNode] = []
        for _index, leaf_hash in new:
            for level, index, hashed in edge.append(bytes.fromhex(leaf_hash)):
                if level:  # level 0 is the leaf itself
                    nodes.append(TreeNode(level=level, index=index, hash=hashed.hex()))
        TreeNode.objects.bulk_create(nodes, batch_size=5000)
        return len(new)


def stored_size() -> int:
    last = LogLeaf.objects.order_by("-index").values_list("index", flat=True).first()
    return 0 if last is None else last + 1


def tree(size: int | None = None) -> Tree:
    """The tree of the first `size` leaves (default: all), from the stored nodes."""
    size = stored_size() if size is None else size
    reader = NodeReader()
    reader.fetch(_edge_keys(size))
    return Tree(size=size, root=merkle.CompactRange.from_nodes(size, reader.get).root())


def _edge_keys(size: int) -> list[tuple[int, int]]:
    keys, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            keys.append((level, start >> level))
            start += 1 << level
    return keys


class NodeReader:
    """Stored nodes by (level, index): leaves from `LogLeaf`, the rest from `TreeNode`.
    `fetch` reads many in one query; `get` reads one it was not given."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}

    def fetch(self, keys: Iterable[tuple[int, int]]) -> None:
        wanted = sorted({key for key in keys if key not in self.nodes})
        if not wanted:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH wanted(level, index) AS (SELECT * FROM unnest(%s::int[], %s::bigint[]))
                SELECT 0, l.index, l.hash FROM {LogLeaf._meta.db_table} l
                 WHERE l.index IN (SELECT index FROM wanted WHERE level = 0)
                UNION ALL
                SELECT n.level, n.index, n.hash FROM {TreeNode._meta.db_table} n
                  JOIN wanted w ON w.level = n.level AND w.index = n.index
                """,
                [[level for level, _ in wanted], [index for _, index in wanted]],
            )
            for level, index, hashed in cursor.fetchall():
                self.nodes[(level, index)] = bytes.fromhex(hashed)

    def get(self, level: int, index: int) -> bytes:
        if (level, index) not in self.nodes:
            self.fetch([(level, index)])
        if (level, index) not in self.nodes:
            raise LookupError(f"the log has no node {level}/{index}")
        return self.nodes[(level, index)]


# A proof algorithm of `ledger.merkle` bound to its sizes, given a subtree(start, end).
Build = Callable[[merkle.Subtree], list[bytes]]


def proof(build: Build) -> list[bytes]:
    """Run a proof algorithm of `ledger.merkle` on the stored nodes with two queries:
    a first pass learns which nodes it needs (with stand-in hashes), then they are read
    at once and the proof is computed for real."""
    needed: list[tuple[int, int]] = []

    def record(level: int, index: int) -> bytes:
        needed.append((level, index))
        return bytes(32)

    build(lambda start, end: merkle.subtree_from_nodes(start, end, record))
    reader = NodeReader()
    reader.fetch(needed)
    return build(lambda start, end: merkle.subtree_from_nodes(start, end, reader.get))


def inclusion_proof(index: int, size: int) -> list[bytes]:
    return proof(lambda subtree: merkle.inclusion_proof(index, size, subtree))


def consistency_proof(old_size: int, new_size: int) -> list[bytes]:
    return proof(lambda subtree: merkle.consistency_proof(old_size, new_size, subtree))
