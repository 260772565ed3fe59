"""The ledger store port: an append-only sequence of entries (deduplicated on entry_id) and the signed
tree heads over them. Adapters: `sql_store.SqlLedgerStore` (SQLite / PostgreSQL) and
`memory_store.InMemoryLedgerStore` (tests); one contract suite runs against both."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from eahub.audit import entry_format, merkle
from eahub.audit.signing import TreeHead
from eahub.core.database import TransientConflict

# Columns copied out of the hashed entry so that queries can use indexes; `verify` checks they agree.
INDEXED = ("entry_id", "kind", "event_id", "subject_ref", "source_agency", "recipient", "isa_id", "case_id")


@dataclass(frozen=True)
class LedgerRow:
    seq: int
    entry_id: str
    kind: str
    occurred_at_ms: int
    event_id: str | None
    subject_ref: str | None
    source_agency: str | None
    recipient: str | None
    isa_id: str | None
    case_id: str | None
    entry: bytes
    leaf_hash: bytes

    def document(self) -> dict[str, Any]:
        return entry_format.decode(self.entry)


@dataclass(frozen=True)
class EntryFilter:
    kinds: tuple[str, ...] = ()
    event_id: str | None = None
    subject_ref: str | None = None
    isa_id: str | None = None
    source_agency: str | None = None
    recipient: str | None = None
    since_ms: int | None = None  # inclusive, on occurred_at
    until_ms: int | None = None  # exclusive

    def matches(self, row: LedgerRow) -> bool:
        return (
            (not self.kinds or row.kind in self.kinds)
            and all(
                getattr(self, name) is None or getattr(row, name) == getattr(self, name)
                for name in ("event_id", "subject_ref", "isa_id", "source_agency", "recipient")
            )
            and (self.since_ms is None or row.occurred_at_ms >= self.since_ms)
            and (self.until_ms is None or row.occurred_at_ms < self.until_ms)
        )


class LedgerStore(Protocol):
    def append(self, entries: Sequence[dict[str, Any]], recorded_at: datetime) -> list[LedgerRow]:
        """Append entries not already present (by entry_id), in order, at the next positions.
        Returns the rows actually appended; a replayed entry is ignored."""

    def size(self) -> int: ...

    def rows(self, start: int = 0, end: int | None = None) -> Iterator[LedgerRow]:
        """Stored rows with start <= seq < end, in seq order (as stored: gaps show as gaps)."""

    def scan(self, start: int | None = None, end: int | None = None) -> Iterator[list[tuple[Any, ...]]]:
        """Stored rows with start <= seq < end (no bound where None: by default every row, negative seq included)
        in seq order, in batches of plain tuples in LedgerRow field order: the cheap read for verifying the
        ledger, from one consistent snapshot."""

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """Stored leaf hashes of seq start..end-1, in seq order."""

    def get(self, entry_id: str) -> LedgerRow | None: ...

    def find(self, flt: EntryFilter) -> list[LedgerRow]:
        """Rows matching the filter, in seq order."""

    def add_tree_head(self, head: TreeHead) -> None:
        """Store a signed tree head (a second head for the same size is ignored)."""

    def tree_heads(self) -> list[TreeHead]:
        """Every stored head, by tree size."""

    def latest_tree_head(self) -> TreeHead | None: ...

    def add_tiles(self, tiles: Sequence[tuple[int, bytes]]) -> None:
        """Store (index, root) of full 256-leaf blocks; an index already stored is left as it is."""

    def tiles(self, count: int) -> list[bytes]:
        """Roots of blocks 0..count-1, stopping at the first one not stored."""


def build_rows(
    entries: Sequence[dict[str, Any]], next_seq: int, recorded_at: datetime, present: set[str]
) -> list[LedgerRow]:
    """Rows for the entries whose ids are neither in `present` nor earlier in the batch."""
    rows: list[LedgerRow] = []
    seen = set(present)
    for entry in entries:
        if entry.get("entry_id") in seen:
            continue
        doc = entry_format.canonical_document(entry, next_seq + len(rows), recorded_at)
        data = entry_format.encode(doc)
        rows.append(
            LedgerRow(
                seq=doc[entry_format.SEQ],
                occurred_at_ms=entry_format.to_ms(entry["occurred_at"]),
                entry=data,
                leaf_hash=merkle.leaf_hash(data),
                **{k: doc[k] for k in INDEXED},
            )
        )
        seen.add(doc["entry_id"])
    return rows


class StoreConflict(TransientConflict):
    """Another writer took the same positions; the append may be retried."""
