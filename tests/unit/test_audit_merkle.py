"""The Merkle tree against an independent implementation written here from RFC 6962 / RFC 9162 §2.1
(recursive MTH, and proof checkers that rebuild roots by the definitions). Nothing here imports the
ledger's own proof verification."""

from __future__ import annotations

import hashlib
import random

import pytest

from eahub.audit.merkle import TILE_WIDTH, CompactRange, MerkleTree, TiledTree

pytestmark = pytest.mark.unit


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: list[bytes]) -> bytes:
    """RFC 9162 2.1.1: MTH({}) = SHA-256(); MTH({d0}) = SHA-256(0x00 || d0); else split at k."""
    n = len(entries)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + entries[0])
    k = k_of(n)
    return H(b"\x01" + mth(entries[:k]) + mth(entries[k:]))


def root_from_inclusion(leaf: bytes, m: int, n: int, path: list[bytes]) -> bytes:
    """Invert PATH(m, D[n]) (2.1.3.1): the last element is the sibling at the top split."""
    if n == 1:
        assert path == []
        return leaf
    assert path, "proof too short"
    k = k_of(n)
    if m < k:
        return H(b"\x01" + root_from_inclusion(leaf, m, k, path[:-1]) + path[-1])
    return H(b"\x01" + path[-1] + root_from_inclusion(leaf, m - k, n - k, path[:-1]))


def roots_from_consistency(m: int, n: int, proof: list[bytes], old_root: bytes, b: bool = True) -> tuple[bytes, bytes]:
    """Invert SUBPROOF(m, D[n], b) (2.1.4.1): returns (root of the first m leaves, root of all n)."""
    if m == n:
        if b:
            assert proof == []
            return old_root, old_root
        assert len(proof) == 1
        return proof[0], proof[0]
    assert proof, "proof too short"
    k = k_of(n)
    if m <= k:
        old, new = roots_from_consistency(m, k, proof[:-1], old_root, b)
        return old, H(b"\x01" + new + proof[-1])
    old, new = roots_from_consistency(m - k, n - k, proof[:-1], old_root, False)
    return H(b"\x01" + proof[-1] + old), H(b"\x01" + proof[-1] + new)


def data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def leaves(entries: list[bytes]) -> list[bytes]:
    return [H(b"\x00" + d) for d in entries]


def test_known_values() -> None:
    assert MerkleTree([]).root().hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 reference vector (certificate-transparency test data): the empty leaf.
    assert MerkleTree(leaves([b""])).root().hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


@pytest.mark.parametrize("n", [*range(1, 34), 100, 127, 128, 129, 1000])
def test_root_of_every_prefix_matches_the_definition(n: int) -> None:
    d = data(n)
    tree = MerkleTree(leaves(d))
    for size in {0, 1, n // 3, n // 2, n - 1, n}:
        assert tree.root(size) == mth(d[:size])


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 100])
def test_every_inclusion_proof_rebuilds_the_root_by_the_definition(n: int) -> None:
    d = data(n)
    tree = MerkleTree(leaves(d))
    for size in range(1, n + 1):
        root = mth(d[:size])
        for m in range(size):
            proof = tree.inclusion_proof(m, size)
            assert root_from_inclusion(H(b"\x00" + d[m]), m, size, proof) == root
            if proof:  # a tampered proof or a different leaf must not rebuild the root
                bad = [*proof[:-1], H(proof[-1])]
                assert root_from_inclusion(H(b"\x00" + d[m]), m, size, bad) != root
            assert root_from_inclusion(H(b"\x00" + b"forged"), m, size, proof) != root


@pytest.mark.parametrize("n", [2, 3, 5, 7, 8, 9, 16, 17, 33, 70])
def test_every_consistency_proof_rebuilds_both_roots_by_the_definition(n: int) -> None:
    d = data(n)
    tree = MerkleTree(leaves(d))
    for second in range(1, n + 1):
        for first in range(1, second + 1):
            proof = tree.consistency_proof(first, second)
            old, new = roots_from_consistency(first, second, proof, mth(d[:first]))
            assert (old, new) == (mth(d[:first]), mth(d[:second]))


def test_consistency_proof_exposes_a_rewritten_history() -> None:
    d = data(40)
    rewritten = [*d[:10], b"forged", *d[11:]]
    honest_old = mth(d[:20])
    proof = MerkleTree(leaves(rewritten)).consistency_proof(20, 40)
    old, _ = roots_from_consistency(20, 40, proof, honest_old)
    assert old != honest_old


def test_proofs_are_logarithmic() -> None:
    tree = MerkleTree(leaves(data(5000)))
    assert max(len(tree.inclusion_proof(m)) for m in range(0, 5000, 97)) <= 13
    assert len(tree.consistency_proof(1234)) <= 2 * 13


def test_compact_range_gives_the_same_roots_while_growing() -> None:
    d = data(300)
    tree = MerkleTree(leaves(d))
    cr = CompactRange()
    for i, leaf in enumerate(leaves(d)):
        cr.append(leaf)
        if i % 7 == 0 or i == 299:
            assert cr.root() == tree.root(i + 1)


def test_a_compact_range_resumed_from_its_hashes_grows_to_the_same_roots() -> None:
    lv = leaves(data(300))
    tree = MerkleTree(lv)
    for size in (0, 1, 7, 128, 255):
        whole = CompactRange()
        whole.extend(lv[:size])
        resumed = CompactRange(size, whole.hashes())
        resumed.extend(lv[size:])
        assert resumed.root() == tree.root() and resumed.size == 300
    with pytest.raises(ValueError, match="hashes"):
        CompactRange(7, [b"x"])


def test_bad_proof_requests_are_refused() -> None:
    tree = MerkleTree(leaves(data(10)))
    with pytest.raises(ValueError, match="outside"):
        tree.inclusion_proof(10, 10)
    with pytest.raises(ValueError, match="outside"):
        tree.root(11)
    with pytest.raises(ValueError, match="consistency"):
        tree.consistency_proof(0, 5)
    with pytest.raises(ValueError, match="consistency"):
        tree.consistency_proof(6, 5)


def test_random_trees_against_the_definition() -> None:
    rnd = random.Random(5)
    for _ in range(20):
        n = rnd.randint(1, 400)
        d = [rnd.randbytes(rnd.randint(0, 40)) for _ in range(n)]
        tree = MerkleTree(leaves(d))
        m = rnd.randrange(n)
        assert root_from_inclusion(H(b"\x00" + d[m]), m, n, tree.inclusion_proof(m)) == mth(d)


@pytest.mark.parametrize("n", [1, 255, 256, 257, 511, 512, 513, 1000, 1030])
def test_a_tiled_tree_gives_the_same_roots_and_proofs_as_the_definition(n: int) -> None:
    d = data(n)
    lv = leaves(d)
    w = TILE_WIDTH
    tiles = [MerkleTree(lv[b * w : (b + 1) * w]).root() for b in range(n // w)]
    loaded: list[int] = []

    def load(b: int) -> list[bytes]:
        loaded.append(b)
        return lv[b * w : min(n, (b + 1) * w)]

    tree = TiledTree(n, tiles, load)
    assert tree.root() == mth(d)
    for m in sorted({0, n // 2, n - 1, min(n - 1, 300)}):
        assert root_from_inclusion(lv[m], m, n, tree.inclusion_proof(m)) == mth(d)
    for first in sorted({1, n // 3 or 1, n - 1 or 1, n}):
        old, new = roots_from_consistency(first, n, tree.consistency_proof(first), mth(d[:first]))
        assert (old, new) == (mth(d[:first]), mth(d))
    assert len(set(loaded)) <= 3 + n // 300  # a few blocks, not every leaf
    with pytest.raises(ValueError, match="full tiles"):
        TiledTree(n, [*tiles, tiles[0] if tiles else b""], load)
