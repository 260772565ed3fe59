"""Signing tree heads over the ledger: every N entries or T seconds (the service decides when), and on
demand (erase, export, prove). The checkpointer re-hashes every entry it covers before signing, so it
never signs over a ledger that was altered behind its back."""

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

    def sync(self) -> int:
        """Fold every stored entry not yet seen into the running tree; returns the tree size."""
        for row in self.store.rows(start=self._range.size):
            if row.seq != self._range.size:
                raise LedgerCorrupt(f"ledger entry seq {self._range.size} is missing (found seq {row.seq})")
            if merkle.leaf_hash(row.entry) != row.leaf_hash:
                raise LedgerCorrupt(
                    f"ledger entry seq {row.seq} ({row.entry_id}) does not match its leaf hash"
                )
            self._range.append(row.leaf_hash)
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
