"""RFC 9162's Merkle tree: our proofs, served from stored nodes, are the RFC's (a naive
recursive transcription of sections 2.1.1, 2.1.3.1 and 2.1.4.1 is the reference), they
verify, and nothing else does. Known answers: Certificate Transparency's reference tree of
eight leaves, and real proofs of Google's Argon 2020 CT log (the ones Go's sumdb/tlog
tests check too)."""

import base64
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    subtree_from_nodes,
    verify_consistency,
    verify_inclusion,
)

DATA = Path(__file__).parent / "data"


# --- The RFC, transcribed naively ----------------------------------------------------------
def mth(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(mth(leaves[:k]), mth(leaves[k:]))


def path(m, leaves):
    if len(leaves) <= 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m, leaves, whole):
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


class StoredTree:
    """Leaves appended through CompactRange, every node it returns kept, as a database would;
    records which ranges the proofs asked for."""

    def __init__(self, size):
        self.leaves = [leaf_hash(f"entry {i}".encode()) for i in range(size)]
        self.nodes = {}
        self.compact = CompactRange()
        for hashed in self.leaves:
            for level, index, node in self.compact.append(hashed):
                assert (level, index) not in self.nodes
                self.nodes[level, index] = node
        self.asked = []

    def subtree(self, start, end):
        self.asked.append((start, end))
        return subtree_from_nodes(start, end, lambda level, index: self.nodes[level, index])


def flipped(proof, position, byte=0):
    changed = bytearray(proof[position])
    changed[byte] ^= 0x01
    return [*proof[:position], bytes(changed), *proof[position + 1 :]]


# --- Known answers --------------------------------------------------------------------------
CT_ENTRIES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]  # fmt: skip
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_LEAVES = [leaf_hash(bytes.fromhex(entry)) for entry in CT_ENTRIES]


def ct_subtree(start, end):
    return mth(CT_LEAVES[start:end])


def test_the_certificate_transparency_reference_roots():
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]
    for size in range(len(CT_LEAVES) + 1):
        assert merkle.root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


@pytest.mark.parametrize(
    ("index", "proof"),
    [
        (0, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (5, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    ],
)  # fmt: skip
def test_the_certificate_transparency_reference_inclusion_proofs(index, proof):
    assert [h.hex() for h in inclusion_proof(index, 8, ct_subtree)] == proof
    root = bytes.fromhex(CT_ROOTS[8])
    assert verify_inclusion(CT_LEAVES[index], index, 8, [bytes.fromhex(h) for h in proof], root)


@pytest.mark.parametrize(
    ("old", "proof"),
    [
        (2, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
        (6, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    ],
)  # fmt: skip
def test_the_certificate_transparency_reference_consistency_proofs(old, proof):
    assert [h.hex() for h in consistency_proof(old, 8, ct_subtree)] == proof
    old_root, new_root = bytes.fromhex(CT_ROOTS[old]), bytes.fromhex(CT_ROOTS[8])
    assert verify_consistency(old, 8, old_root, new_root, [bytes.fromhex(h) for h in proof])


def test_proofs_of_a_real_certificate_transparency_log():
    """Argon 2020: leaf 10000 is in the tree of 961,984,013 certificates, which extends the
    tree of 3,654,490; one flipped bit anywhere and neither proof holds."""

    def hashes(encoded):
        return [base64.b64decode(h) for h in encoded]

    argon = json.loads((DATA / "argon2020.json").read_text())
    size, root = argon["sth"]["tree_size"], base64.b64decode(argon["sth"]["sha256_root_hash"])
    leaf = leaf_hash(base64.b64decode(argon["entry"]["leaf_input"]))
    audit_path = hashes(argon["proof"]["audit_path"])
    assert verify_inclusion(leaf, argon["proof"]["leaf_index"], size, audit_path, root)
    assert not verify_inclusion(leaf, 10001, size, audit_path, root)
    assert not verify_inclusion(leaf, 10000, size, flipped(audit_path, 7), root)

    old = argon["consistency"]["first"]
    old_root = base64.b64decode(argon["consistency"]["first_hash"])
    proof = hashes(argon["consistency"]["consistency"])
    assert verify_consistency(old, size, old_root, root, proof)
    assert not verify_consistency(old, size, old_root, root, flipped(proof, len(proof) - 1, 31))
    assert not verify_consistency(old + 1, size, old_root, root, proof)


# --- Our proofs are the RFC's, and verify --------------------------------------------------
@pytest.mark.parametrize("size", range(1, 65))
def test_every_proof_of_every_small_tree_is_the_rfcs_and_verifies(size):
    tree = StoredTree(size)
    root = mth(tree.leaves)
    assert tree.compact.root() == root == merkle.root(tree.leaves)
    for index in range(size):
        proof = inclusion_proof(index, size, tree.subtree)
        assert proof == path(index, tree.leaves)
        assert verify_inclusion(tree.leaves[index], index, size, proof, root)
    for old in range(size + 1):
        proof = consistency_proof(old, size, tree.subtree)
        assert proof == (subproof(old, tree.leaves, True) if 0 < old < size else [])
        assert verify_consistency(old, size, mth(tree.leaves[:old]), root, proof)


def aligned_or_right_edge(start, end, sizes):
    n = end - start
    aligned = n & (n - 1) == 0 and start % n == 0
    block = 1 << (n - 1).bit_length()  # the smallest power of two >= n
    return aligned or (end in sizes and start % block == 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_verify_and_fail_when_anything_changes(size_and_index):
    size, index = size_and_index
    tree = StoredTree(size)
    root = tree.compact.root()
    proof = inclusion_proof(index, size, tree.subtree)
    assert proof == path(index, tree.leaves)
    assert all(aligned_or_right_edge(start, end, {size}) for start, end in tree.asked)
    assert verify_inclusion(tree.leaves[index], index, size, proof, root)
    for position in range(len(proof)):
        assert not verify_inclusion(tree.leaves[index], index, size, flipped(proof, position), root)
    other = (index + 1) % size
    if other != index:
        assert not verify_inclusion(tree.leaves[index], other, size, proof, root)
        assert not verify_inclusion(tree.leaves[other], index, size, proof, root)
    assert not verify_inclusion(tree.leaves[index], size, size, proof, root)
    # (A different size can have the same path shape for a leaf; the signed checkpoint
    # binds root and size together, which is why the verifier compares treeSize with it.)
    assert not verify_inclusion(tree.leaves[index], index, size, [*proof, root], root)
    assert not verify_inclusion(tree.leaves[index], index, size, proof, flipped([root], 0)[0])
    if proof:
        assert not verify_inclusion(tree.leaves[index], index, size, proof[:-1], root)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_consistency_proofs_verify_and_fail_when_anything_changes(sizes):
    old, new = sizes
    tree = StoredTree(new)
    old_root, new_root = mth(tree.leaves[:old]), tree.compact.root()
    proof = consistency_proof(old, new, tree.subtree)
    assert proof == (subproof(old, tree.leaves, True) if 0 < old < new else [])
    assert all(aligned_or_right_edge(start, end, {old, new}) for start, end in tree.asked)
    assert verify_consistency(old, new, old_root, new_root, proof)
    for position in range(len(proof)):
        assert not verify_consistency(old, new, old_root, new_root, flipped(proof, position))
    if old:  # (from the empty tree every tree is consistent)
        assert not verify_consistency(old, new, old_root, flipped([new_root], 0)[0], proof)
        assert not verify_consistency(old, new, flipped([old_root], 0)[0], new_root, proof)
    assert not verify_consistency(old, new, old_root, new_root, [*proof, new_root])
    if 0 < old < new:
        assert not verify_consistency(old, new, old_root, new_root, proof[:-1])
        if old > 1:
            assert not verify_consistency(old - 1, new, old_root, new_root, proof)


def test_the_edge_cases_rfc_9162_leaves_to_the_caller():
    tree = StoredTree(8)
    root4, root8 = mth(tree.leaves[:4]), mth(tree.leaves)
    assert verify_consistency(8, 8, root8, root8, [])
    assert not verify_consistency(8, 8, root8, root4, [])  # same size, another root
    assert not verify_consistency(8, 8, root8, root8, [root8])  # an equal size has no proof
    assert verify_consistency(0, 8, EMPTY_ROOT, root8, [])
    assert not verify_consistency(0, 8, root4, root8, [])  # the empty tree has one root
    assert not verify_consistency(0, 8, EMPTY_ROOT, root8, [root8])
    assert not verify_consistency(8, 4, root8, root4, [])  # a tree does not shrink
    # A power-of-two old size: the old root itself is not sent (RFC 9162 2.1.4.2 step 2).
    proof = consistency_proof(4, 8, tree.subtree)
    assert proof == [mth(tree.leaves[4:8])]
    assert verify_consistency(4, 8, root4, root8, proof)
    assert not verify_consistency(4, 8, root4, root8, [])
    assert not verify_consistency(4, 8, root4, root8, [b"short"])
    assert not verify_inclusion(tree.leaves[0], 0, 0, [], EMPTY_ROOT)
    assert not verify_inclusion(tree.leaves[0], -1, 8, inclusion_proof(0, 8, tree.subtree), root8)
    assert verify_inclusion(tree.leaves[0], 0, 1, [], tree.leaves[0])
    with pytest.raises(ValueError):
        inclusion_proof(8, 8, tree.subtree)
    with pytest.raises(ValueError):
        consistency_proof(5, 4, tree.subtree)


# --- Storage: the compact range and the stored nodes --------------------------------------
def test_appending_returns_each_completed_node_with_its_level_and_index():
    compact = CompactRange()
    leaves = [leaf_hash(bytes([i])) for i in range(4)]
    assert compact.append(leaves[0]) == [(0, 0, leaves[0])]
    assert compact.append(leaves[1]) == [(0, 1, leaves[1]), (1, 0, node_hash(*leaves[:2]))]
    assert compact.append(leaves[2]) == [(0, 2, leaves[2])]
    new = compact.append(leaves[3])
    assert [(level, index) for level, index, _ in new] == [(0, 3), (1, 1), (2, 0)]
    assert new[-1][2] == mth(leaves) == compact.root()
    assert CompactRange().root() == EMPTY_ROOT
    with pytest.raises(ValueError):
        compact.append(b"not 32 bytes")


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 300), st.integers(1, 20))
def test_a_compact_range_restored_from_stored_nodes_goes_on_as_if_never_stopped(size, more):
    tree = StoredTree(size + more)
    nodes_at_size = {
        (level, index): node
        for (level, index), node in tree.nodes.items()
        if (index + 1) << level <= size
    }
    restored = CompactRange.from_nodes(size, lambda level, index: nodes_at_size[level, index])
    assert restored.size == size and restored.root() == mth(tree.leaves[:size])
    for hashed in tree.leaves[size:]:
        for level, index, node in restored.append(hashed):
            assert tree.nodes[level, index] == node
    assert restored.root() == tree.compact.root()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_any_range_is_composed_from_stored_nodes(size_and_start):
    size, start = size_and_start
    tree = StoredTree(size)
    for end in range(start + 1, size + 1):
        assert tree.subtree(start, end) == mth(tree.leaves[start:end])
    with pytest.raises(ValueError):
        subtree_from_nodes(start, start, lambda level, index: b"")
