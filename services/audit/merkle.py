"""RFC 6962 / RFC 9162 Merkle tree: domain-separated hashes, tree heads, inclusion and consistency proofs.

leaf = SHA-256(0x00 || entry bytes); node = SHA-256(0x01 || left || right); a tree of n > 1 leaves
splits at k, the largest power of two smaller than n. `MerkleTree` keeps every level (built
iteratively, one hash per node), so the root of any prefix and every proof cost O(log n) hashes.
`TiledTree` answers the same questions from stored tiles (the roots of aligned 2**TILE_HEIGHT-leaf
subtrees) plus the leaves of the one or two blocks a proof needs, without loading every leaf."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from operator import methodcaller

EMPTY_ROOT = hashlib.sha256(b"").digest()
TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
_LEAF_PREFIX = b"\x00"
_DIGEST = methodcaller("digest")


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def leaf_hashes(entries: Sequence[bytes]) -> list[bytes]:
    """leaf_hash of each entry, the loop in C (no Python call per entry)."""
    return list(map(_DIGEST, map(hashlib.sha256, map(_LEAF_PREFIX.__add__, entries))))


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class ProofTree:
    """The RFC 9162 definitions (MTH, PATH, PROOF) over a tree of `size` leaves; subclasses say where
    the hash of a perfect, aligned subtree comes from."""

    size: int

    def _perfect(self, start: int, n: int) -> bytes:
        raise NotImplementedError

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        self._check_size(size)
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """RFC 9162 PATH(index, D[size]): sibling hashes from the leaf up."""
        size = self.size if size is None else size
        self._check_size(size)
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is outside a tree of size {size}")
        return self._path(index, 0, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 9162 PROOF(old_size, D[new_size])."""
        new_size = self.size if new_size is None else new_size
        self._check_size(new_size)
        if not 0 < old_size <= new_size:
            raise ValueError(f"consistency needs 0 < from ({old_size}) <= to ({new_size})")
        return self._subproof(old_size, 0, new_size, True)

    def _check_size(self, size: int) -> None:
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")

    def _subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:  # a perfect, aligned subtree
            return self._perfect(start, n)
        k = split_point(n)
        return node_hash(self._subtree(start, start + k), self._subtree(start + k, end))

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = split_point(n)
        if m < k:
            return [*self._path(m, start, start + k), self._subtree(start + k, end)]
        return [*self._path(m - k, start + k, end), self._subtree(start, start + k)]

    def _subproof(self, m: int, start: int, end: int, complete: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if complete else [self._subtree(start, end)]
        k = split_point(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, complete), self._subtree(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self._subtree(start, start + k)]


class MerkleTree(ProofTree):
    """Every level of the tree over all the leaves."""

    def __init__(self, leaves: Sequence[bytes]) -> None:
        levels: list[list[bytes]] = [list(leaves)]
        sha = hashlib.sha256
        while len(levels[-1]) > 1:
            below = levels[-1]
            levels.append([sha(b"\x01" + below[i] + below[i + 1]).digest() for i in range(0, len(below) - 1, 2)])
        self._levels = levels
        self.size = len(leaves)

    def _perfect(self, start: int, n: int) -> bytes:
        return self._levels[n.bit_length() - 1][start // n]


class TiledTree(ProofTree):
    """A tree of `size` leaves known by its tiles (roots of leaves b*W..(b+1)*W-1 for every full block b)
    and a loader of the leaves of one block (the last one may be partial)."""

    def __init__(self, size: int, tiles: Sequence[bytes], load_block: Callable[[int], Sequence[bytes]]) -> None:
        if len(tiles) != size // TILE_WIDTH:
            raise ValueError(f"a tree of {size} leaves has {size // TILE_WIDTH} full tiles, not {len(tiles)}")
        self.size = size
        self._upper = MerkleTree(tiles)
        self._load_block = load_block
        self._blocks: dict[int, MerkleTree] = {}

    def _perfect(self, start: int, n: int) -> bytes:
        if n >= TILE_WIDTH:
            return self._upper._perfect(start // TILE_WIDTH, n // TILE_WIDTH)
        b = start // TILE_WIDTH
        if b not in self._blocks:
            self._blocks[b] = MerkleTree(self._load_block(b))
        return self._blocks[b]._perfect(start % TILE_WIDTH, n)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


class CompactRange:
    """The roots of the perfect subtrees of a growing tree: append a leaf in O(1) amortised hashes and
    get the root of everything appended so far in O(log n), without keeping the leaves. A range can be
    resumed from its `hashes()` at a known size (the perfect subtrees are those of the size's set bits)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        heights = [h for h in range(size.bit_length() - 1, -1, -1) if size >> h & 1]
        if len(heights) != len(hashes):
            raise ValueError(f"a compact range of size {size} has {len(heights)} hashes, not {len(hashes)}")
        self._stack: list[tuple[int, bytes]] = list(zip(heights, hashes, strict=True))  # heights decreasing
        self.size = size

    def append(self, leaf: bytes) -> None:
        self.extend((leaf,))

    def extend(self, leaves: Sequence[bytes]) -> None:
        stack, sha, size = self._stack, hashlib.sha256, self.size
        for node in leaves:
            height = 0
            while stack and stack[-1][0] == height:
                node = sha(b"\x01" + stack.pop()[1] + node).digest()
                height += 1
            stack.append((height, node))
            size += 1
        self.size = size

    def hashes(self) -> tuple[bytes, ...]:
        return tuple(node for _, node in self._stack)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        root = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            root = node_hash(left, root)
        return root
