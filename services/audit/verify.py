"""Whole-ledger verification: every entry re-hashed, positions continuous, indexed columns equal to the
hashed content, and the Merkle root at every signed tree head equal to the signed root (and every
signature valid under the hub's public key). Reports the first place where the ledger is wrong.

An attacker who alters an entry AND recomputes its stored leaf hash is caught by the first signed head
whose root no longer matches; the place is then known to lie between that head and the previous one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine

from eahub.audit import entry_format, merkle
from eahub.audit.signing import TreeHead, head_problem
from eahub.audit.store import INDEXED, LedgerRow, LedgerStore

# Per-row costs matter at a million entries: one decoder (json.loads re-detects the encoding of every entry:
# entries are UTF-8, as written) and the row's indexed columns read in one call.
_DECODER = json.JSONDecoder()
_ROW_INDEXED = attrgetter(*INDEXED)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    size: int
    first_bad_seq: int | None = None
    first_bad_entry_id: str | None = None
    problem: str | None = None
    tree_heads: int = 0
    covered_size: int = 0
    root_hash: str = merkle.EMPTY_ROOT.hex()

    def summary(self) -> str:
        if not self.ok:
            where = (
                ""
                if self.first_bad_seq is None
                else f"entry seq {self.first_bad_seq}"
                + (f" (entry_id {self.first_bad_entry_id})" if self.first_bad_entry_id else "")
                + ": "
            )
            return f"LEDGER NOT INTACT: {where}{self.problem}"
        uncovered = self.size - self.covered_size
        tail = f"; {uncovered} newest entries not yet under a signed tree head" if uncovered else ""
        return (
            f"ledger intact: {self.size} entries, {self.tree_heads} signed tree heads verified, "
            f"latest covers {self.covered_size}, root {self.root_hash}{tail}"
        )


def verify_ledger(
    source: Engine | LedgerStore, public_key: Ed25519PublicKey, published: Sequence[TreeHead] = ()
) -> VerifyResult:
    """Verify the stored ledger against its stored tree heads and, if given, against copies of heads kept
    outside the database (e.g. read from eahub.audit.checkpoints), which expose deleted heads and a
    truncated ledger. Published heads not signed by `public_key` prove nothing and are ignored."""
    store = _as_store(source)
    heads = store.tree_heads()
    for head in heads:
        problem = head_problem(head, public_key)
        if problem is not None:
            return VerifyResult(False, store.size(), problem=problem, tree_heads=len(heads))
    by_size = {h.tree_size: h for h in heads}
    for head in published:
        if head_problem(head, public_key) is not None:
            continue
        known = by_size.setdefault(head.tree_size, head)
        if known.root_hash != head.root_hash:
            return VerifyResult(
                False,
                store.size(),
                problem=f"two signed tree heads for size {head.tree_size} disagree "
                "(the ledger was forked or rewritten after publication)",
                tree_heads=len(by_size),
            )
    heads = [by_size[size] for size in sorted(by_size)]
    leaves: list[bytes] = []
    failure: VerifyResult | None = None
    for row in store.rows():
        bad_row = _row_problem(store, row, len(leaves))
        if bad_row is not None:
            seq, entry_id, text = bad_row
            failure = VerifyResult(False, store.size(), seq, entry_id, text, len(heads))
            break
        leaves.append(row.leaf_hash)
    tree = merkle.MerkleTree(leaves)
    # Heads up to the first bad row can still reveal an earlier, cleverer change (leaf hash recomputed).
    limit = tree.size if failure is None or failure.first_bad_seq is None else failure.first_bad_seq
    previous = 0
    for head in heads:
        if head.tree_size > limit:
            if failure is not None:
                return failure
            return VerifyResult(
                False,
                tree.size,
                tree.size,
                None,
                f"missing: a tree head is signed for {head.tree_size} entries but the ledger holds "
                f"{tree.size} (entries seq {tree.size}..{head.tree_size - 1} deleted)",
                len(heads),
            )
        if tree.root(head.tree_size) != head.root_hash:
            first_id = next((r.entry_id for r in store.rows(previous, previous + 1)), None)
            return VerifyResult(
                False,
                tree.size,
                previous,
                first_id,
                f"altered: the tree head signed for {head.tree_size} entries no longer matches; an entry in "
                f"seq {previous}..{head.tree_size - 1} was changed together with its leaf hash",
                len(heads),
            )
        previous = head.tree_size
    if failure is not None:
        return failure
    return VerifyResult(True, tree.size, tree_heads=len(heads), covered_size=previous, root_hash=tree.root().hex())


def _row_problem(store: LedgerStore, row: LedgerRow, expected_seq: int) -> tuple[int, str | None, str] | None:
    if row.seq != expected_seq:
        return (
            expected_seq,
            None,
            f"missing: no entry at this position (the next stored one is seq {row.seq}, "
            f"entry_id {row.entry_id}); entries were deleted",
        )
    if merkle.leaf_hash(row.entry) != row.leaf_hash:
        return row.seq, row.entry_id, "modified: the stored entry does not match its leaf hash"
    try:
        doc = _document(row.entry)
    except ValueError:
        return row.seq, row.entry_id, "modified: the stored entry is not canonical JSON"
    written_at = doc.get(entry_format.SEQ)
    if isinstance(written_at, int) and 0 <= written_at < row.seq:
        # This entry was pushed along: the ones now before it, from its old place on, were inserted.
        intruder = next(iter(store.rows(written_at, written_at + 1)), None)
        return (
            written_at,
            intruder.entry_id if intruder else None,
            f"inserted: {row.seq - written_at} entries were inserted here (entry {row.entry_id} was "
            f"written at seq {written_at} and now sits at seq {row.seq})",
        )
    if written_at != row.seq:
        return (
            row.seq,
            row.entry_id,
            f"out of place: the entry was written at seq {written_at}; entries were deleted or reordered",
        )
    if tuple(map(doc.get, INDEXED)) != _ROW_INDEXED(row):
        name = next(n for n in INDEXED if doc.get(n) != getattr(row, n))
        return row.seq, row.entry_id, f"modified: column {name} disagrees with the hashed entry"
    occurred = doc.get("occurred_at")
    if not isinstance(occurred, str) or entry_format.to_ms(entry_format.parse_iso(occurred)) != row.occurred_at_ms:
        return row.seq, row.entry_id, "modified: column occurred_at_ms disagrees with the hashed entry"
    return None


def _document(data: bytes) -> Any:
    """`entry_format.decode`, with a fast path for what the ledger writes (UTF-8, nothing around the JSON)."""
    try:
        text = data.decode("utf-8")
        doc, end = _DECODER.raw_decode(text)
        if end == len(text):
            return doc
    except ValueError:
        pass
    return entry_format.decode(data)  # the general path: same answer, or the same ValueError


def _as_store(source: Engine | LedgerStore) -> LedgerStore:
    if isinstance(source, Engine):
        from eahub.audit.sql_store import SqlLedgerStore

        return SqlLedgerStore(source)
    return source


__all__ = ["TreeHead", "VerifyResult", "verify_ledger"]
