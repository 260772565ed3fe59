"""Signing tree heads over the ledger: every N entries or T seconds (the service decides when), and on
demand (erase, export, prove). The checkpointer re-hashes every entry it has not yet seen under a
signed head before signing, so it never signs over entries altered behind its back. On its first sync
it resumes from the latest signed head: the stored leaf hashes up to it must rebuild the signed root.
It also stores the tiles (roots of full 256-leaf blocks) that make proofs cheap."""

from __future__ import annotations

import time
from collections.abc import Callable

from eahub.audit import merkle
from eahub.audit.signing import Signer, TreeHead
from eahub.audit.store import LedgerStore


class LedgerCorrupt(RuntimeError):
    """The stored ledger does not match its own hashes: stop and run `eahub audit verify`."""


class Checkpointer:
    def __init__(
        self,
        store: LedgerStore,
        signer: Signer,
        clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock_ms = clock_ms
        self._range = merkle.CompactRange()
        self._block: list[bytes] = []
        self._new_tiles: list[tuple[int, bytes]] = []
        self._resumed = False

    def sync(self) -> int:
        """Fold every stored entry not yet seen into the running tree; returns the tree size."""
        if not self._resumed:
            self._resume()
        for row in self.store.rows(start=self._range.size):
            if row.seq != self._range.size:
                raise LedgerCorrupt(f"ledger entry seq {self._range.size} is missing (found seq {row.seq})")
            if merkle.leaf_hash(row.entry) != row.leaf_hash:
                raise LedgerCorrupt(f"ledger entry seq {row.seq} ({row.entry_id}) does not match its leaf hash")
            self._add(row.leaf_hash)
        self._flush_tiles()
        return self._range.size

    def checkpoint(self) -> TreeHead | None:
        """Sign and store a head for the current size, unless one already covers it (or it is empty)."""
        size = self.sync()
        latest = self.store.latest_tree_head()
        if size == 0 or (latest is not None and latest.tree_size >= size):
            return None
        head = self.signer.sign(size, self._range.root(), self.clock_ms())
        self.store.add_tree_head(head)
        return head

    def covering_head(self, size: int) -> TreeHead:
        """The latest head, signing a new one first if it does not cover `size` entries."""
        latest = self.store.latest_tree_head()
        if latest is None or latest.tree_size < size:
            self.checkpoint()
            latest = self.store.latest_tree_head()
        if latest is None or latest.tree_size < size:
            raise LedgerCorrupt(f"no signed tree head covers {size} entries")
        return latest

    def _resume(self) -> None:
        self._resumed = True
        head = self.store.latest_tree_head()
        if head is None:
            return
        leaves = self.store.leaf_hashes(0, head.tree_size)
        if len(leaves) != head.tree_size:
            raise LedgerCorrupt(f"the latest signed head covers {head.tree_size} entries; {len(leaves)} are stored")
        known_tiles = len(self.store.tiles(head.tree_size // merkle.TILE_WIDTH))
        for leaf in leaves:
            self._add(leaf)
        if self._range.root() != head.root_hash:
            raise LedgerCorrupt(f"the stored leaf hashes do not rebuild the signed root at size {head.tree_size}")
        self._new_tiles = [t for t in self._new_tiles if t[0] >= known_tiles]

    def _add(self, leaf: bytes) -> None:
        self._range.append(leaf)
        self._block.append(leaf)
        if len(self._block) == merkle.TILE_WIDTH:
            self._new_tiles.append((self._range.size // merkle.TILE_WIDTH - 1, merkle.MerkleTree(self._block).root()))
            self._block = []

    def _flush_tiles(self) -> None:
        if self._new_tiles:
            self.store.add_tiles(self._new_tiles)
            self._new_tiles = []


def tree_at(store: LedgerStore, size: int) -> merkle.TiledTree:
    """The tree of the first `size` entries, from the stored tiles (computing any missing ones) and the
    leaf hashes of the blocks a proof touches."""
    full = size // merkle.TILE_WIDTH
    tiles = store.tiles(full)
    width = merkle.TILE_WIDTH
    tiles += [merkle.MerkleTree(store.leaf_hashes(b * width, (b + 1) * width)).root() for b in range(len(tiles), full)]
    return merkle.TiledTree(size, tiles, lambda b: store.leaf_hashes(b * width, min(size, (b + 1) * width)))
