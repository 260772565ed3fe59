"""Inclusion and consistency proofs over the stored ledger, as JSON documents."""

from __future__ import annotations

from typing import Any

from eahub.audit import merkle
from eahub.audit.checkpoints import Checkpointer, LedgerCorrupt, tree_at
from eahub.audit.store import LedgerStore


def inclusion(checkpointer: Checkpointer, entry_id: str) -> dict[str, Any] | None:
    """Proof that the entry is in the tree of the latest signed head (signing one first if needed)."""
    row = checkpointer.store.get(entry_id)
    if row is None:
        return None
    head = checkpointer.covering_head(row.seq + 1)
    path = tree_at(checkpointer.store, head.tree_size).inclusion_proof(row.seq)
    if not merkle.verify_inclusion(row.leaf_hash, row.seq, head.tree_size, path, head.root_hash):
        raise LedgerCorrupt(f"no valid proof of entry {entry_id} against the signed head: run `eahub audit verify`")
    return {
        "entry_id": row.entry_id,
        "leaf_index": row.seq,
        "entry": row.entry.decode("utf-8"),
        "leaf_hash": row.leaf_hash.hex(),
        "tree_size": head.tree_size,
        "audit_path": [h.hex() for h in path],
        "tree_head": head.to_json(),
    }


def consistency(store: LedgerStore, first: int, second: int) -> dict[str, Any]:
    size = store.size()
    if second > size:
        raise ValueError(f"--to {second} is larger than the ledger ({size} entries)")
    tree = tree_at(store, second)
    proof = tree.consistency_proof(first, second)
    heads = {h.tree_size: h.to_json() for h in store.tree_heads() if h.tree_size in (first, second)}
    return {
        "from_size": first,
        "to_size": second,
        "from_root": tree.root(first).hex(),
        "to_root": tree.root(second).hex(),
        "proof": [h.hex() for h in proof],
        "tree_heads": [heads[s] for s in sorted(heads)],
    }
