"""In-memory adapter of the ledger store port, for unit tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from eahub.audit.signing import TreeHead
from eahub.audit.store import EntryFilter, LedgerRow, build_rows


class InMemoryLedgerStore:
    def __init__(self) -> None:
        self.entries: list[LedgerRow] = []  # public so tests can tamper, as a DBA could
        self.heads: dict[int, TreeHead] = {}
        self.tile_roots: dict[int, bytes] = {}
        self._lock = threading.Lock()

    def append(self, entries: Sequence[dict[str, Any]], recorded_at: datetime) -> list[LedgerRow]:
        with self._lock:
            present = {r.entry_id for r in self.entries}
            next_seq = self.entries[-1].seq + 1 if self.entries else 0
            rows = build_rows(entries, next_seq, recorded_at, present)
            self.entries.extend(rows)
            return rows

    def size(self) -> int:
        return self.entries[-1].seq + 1 if self.entries else 0

    def rows(self, start: int = 0, end: int | None = None) -> Iterator[LedgerRow]:
        for row in list(self.entries):
            if row.seq >= start and (end is None or row.seq < end):
                yield row

    def scan(self, start: int | None = None, end: int | None = None) -> Iterator[list[tuple[Any, ...]]]:
        rows = sorted((r for r in self.entries if (start is None or r.seq >= start) and (end is None or r.seq < end)),
                      key=lambda r: r.seq)
        for i in range(0, len(rows), 1000):
            yield [tuple(r.__dict__.values()) for r in rows[i : i + 1000]]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        return [r.leaf_hash for r in self.entries if start <= r.seq < end]

    def get(self, entry_id: str) -> LedgerRow | None:
        return next((r for r in self.entries if r.entry_id == entry_id), None)

    def find(self, flt: EntryFilter) -> list[LedgerRow]:
        return [r for r in self.entries if flt.matches(r)]

    def add_tree_head(self, head: TreeHead) -> None:
        self.heads.setdefault(head.tree_size, head)

    def tree_heads(self) -> list[TreeHead]:
        return [self.heads[s] for s in sorted(self.heads)]

    def latest_tree_head(self) -> TreeHead | None:
        return self.heads[max(self.heads)] if self.heads else None

    def add_tiles(self, tiles: Sequence[tuple[int, bytes]]) -> None:
        for idx, root in tiles:
            self.tile_roots.setdefault(idx, root)

    def tiles(self, count: int) -> list[bytes]:
        out: list[bytes] = []
        while len(out) < count and len(out) in self.tile_roots:
            out.append(self.tile_roots[len(out)])
        return out
