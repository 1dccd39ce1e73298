"""The Merkle tree of RFC 9162 (Certificate Transparency 2.0), section 2.1: hashes, proofs
and their verification, and an incremental builder for a log that stores its nodes.

Hashes (section 2.1.1), SHA-256 throughout:

    MTH({})       = SHA-256()                                   EMPTY_ROOT
    leaf hash     = SHA-256(0x00 || entry bytes)                leaf_hash()
    node hash     = SHA-256(0x01 || left hash || right hash)     node_hash()
    MTH(D[n]), n > 1: k = the largest power of two < n,
                  node_hash(MTH(D[0:k]), MTH(D[k:n]))

Proofs are computed from a callback, `subtree(start, end) -> bytes`, the Merkle tree hash
of leaves [start, end), so that a database can answer from the nodes it stored. The ranges
the algorithms of sections 2.1.3.1 and 2.1.4.1 ask for are of two kinds only:

- aligned perfect subtrees: `end - start` a power of two and `start` a multiple of it,
  i.e. the stored node (level, start >> level) of `CompactRange.append`;
- right edges: `end` is the size of a tree (the tree proven into, or in a consistency
  proof the old tree), `start` a multiple of a power of two >= `end - start`.

`subtree_from_nodes` answers both from stored perfect nodes in O(log n) look-ups.

Verification (`verify_inclusion`, `verify_consistency`) follows the algorithms of sections
2.1.3.2 and 2.1.4.2 step by step, with the edge cases RFC 9162 leaves to the caller made
explicit: an equal old and new size needs an empty proof and equal roots, an old size of
0 an empty proof (and the empty root); a proof with hashes left over fails.
"""

import hashlib
from collections.abc import Callable, Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "CompactRange",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root",
    "subtree_from_nodes",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# subtree(start, end): the Merkle tree hash of leaves [start, end).
Subtree = Callable[[int, int], bytes]
# get_node(level, index): the stored perfect node over leaves [index << level, (index+1) << level).
GetNode = Callable[[int, int], bytes]


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 2.1.1: the hash of a leaf, SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 2.1.1: the hash of an interior node, SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Iterable[bytes]) -> bytes:
    """The Merkle tree hash of a whole list of leaf hashes (EMPTY_ROOT for none)."""
    tree = CompactRange()
    for hashed in leaf_hashes:
        tree.append(hashed)
    return tree.root()


def _split(n: int) -> int:
    """k: the largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


# --- Proofs (RFC 9162 2.1.3.1 and 2.1.4.1) ------------------------------------------------
def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]): the audit path of leaf `index` in the tree of `size` leaves,
    the sibling nearest the leaf first."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size} leaves")
    siblings: list[bytes] = []  # from the root down; PATH lists them from the leaf up
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            siblings.append(subtree(start + k, end))
            end = start + k
        else:
            siblings.append(subtree(start, start + k))
            start += k
    return siblings[::-1]


def consistency_proof(old_size: int, new_size: int, subtree: Subtree) -> list[bytes]:
    """PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true): the hashes
    that prove the tree of `old_size` leaves is a prefix of the tree of `new_size`. Empty
    when the old tree is empty or the trees are the same size."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size} leaves")
    if old_size in (0, new_size):
        return []
    hashes: list[bytes] = []  # from the root down; SUBPROOF lists them from the bottom up
    start, end, old, whole_old_tree = 0, new_size, old_size, True
    while old != end - start:
        k = _split(end - start)
        if old <= k:
            hashes.append(subtree(start + k, end))
            end = start + k
        else:
            hashes.append(subtree(start, start + k))
            start, old, whole_old_tree = start + k, old - k, False
    if not whole_old_tree:
        hashes.append(subtree(start, end))
    return hashes[::-1]


# --- Verification (RFC 9162 2.1.3.2 and 2.1.4.2) ------------------------------------------
def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 2.1.3.2: does `proof` lead from leaf `index` with hash `leaf_hash` to
    `root`, the hash of the tree of `size` leaves?"""
    if not _well_formed(leaf_hash, root, *proof):
        return False
    if not 0 <= index < size:  # step 1
        return False
    fn, sn = index, size - 1  # step 2
    r = leaf_hash  # step 3
    for p in proof:  # step 4
        if sn == 0:  # 4a
            return False
        if fn & 1 or fn == sn:  # 4b
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1  # 4c
    return sn == 0 and r == root  # step 5


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2: does `proof` show that the tree of `old_size` leaves with hash
    `old_root` is a prefix of the tree of `new_size` leaves with hash `new_root`?"""
    if not _well_formed(old_root, new_root, *proof):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:  # step 1
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # step 2: an exact power of two
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1  # step 3
    while fn & 1:  # step 4
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]  # step 5
    for c in path[1:]:  # step 6
        if sn == 0:  # 6a
            return False
        if fn & 1 or fn == sn:  # 6b
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1  # 6c
    return fr == old_root and sr == new_root and sn == 0  # step 7


# --- Storage -----------------------------------------------------------------------------
class CompactRange:
    """The right edge of a growing tree: the roots of its perfect subtrees, largest first
    (one per set bit of the size). Appending a leaf returns every node that became
    complete, for storage; `root()` is the tree's hash at the current size."""

    def __init__(self) -> None:
        self._edge: list[tuple[int, bytes]] = []  # (level, hash), levels decreasing
        self.size = 0

    @classmethod
    def from_nodes(cls, size: int, get_node: GetNode) -> "CompactRange":
        """The compact range of a tree of `size` leaves, read from its stored nodes."""
        if size < 0:
            raise ValueError("a tree has no negative size")
        compact = cls()
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size >> level & 1:
                compact._edge.append((level, get_node(level, start >> level)))
                start += 1 << level
        compact.size = size
        return compact

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the new complete perfect nodes as (level, index, hash):
        the leaf itself at level 0, then each parent it completed, bottom up."""
        if len(leaf_hash) != HASH_SIZE:
            raise ValueError("a leaf hash is 32 bytes")
        index = self.size
        level, hashed = 0, leaf_hash
        new = [(0, index, leaf_hash)]
        while self._edge and self._edge[-1][0] == level:
            _, left = self._edge.pop()
            level, hashed = level + 1, node_hash(left, hashed)
            new.append((level, index >> level, hashed))
        self._edge.append((level, hashed))
        self.size += 1
        return new

    def root(self) -> bytes:
        if not self._edge:
            return EMPTY_ROOT
        hashed = self._edge[-1][1]
        for _, left in reversed(self._edge[:-1]):
            hashed = node_hash(left, hashed)
        return hashed


def subtree_from_nodes(start: int, end: int, get_node: GetNode) -> bytes:
    """MTH(D[start:end]) composed from stored perfect nodes: an aligned power-of-two range
    is one node; any other range splits as MTH does (k = largest power of two below its
    length). For the ranges the proofs ask for, every part is aligned: O(log n) look-ups."""
    if not 0 <= start < end:
        raise ValueError(f"no subtree over leaves [{start}, {end})")
    n = end - start
    if n & (n - 1) == 0 and start % n == 0:
        return get_node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(
        subtree_from_nodes(start, start + k, get_node), subtree_from_nodes(start + k, end, get_node)
    )
