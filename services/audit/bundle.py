"""Signed evidence bundles: selected ledger entries with their RFC 9162 inclusion proofs, the signed tree
head they are proven against and the hub's public key; verifiable offline, without the database."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from eahub.audit import entry_format, merkle
from eahub.audit.checkpoints import Checkpointer, LedgerCorrupt, tree_at
from eahub.audit.signing import TreeHead, head_problem, key_id, load_public_key_pem, public_key_pem
from eahub.audit.store import LedgerRow

FORMAT = "eahub-evidence-bundle/1"


def export_bundle(checkpointer: Checkpointer, rows: list[LedgerRow], selection: dict[str, str]) -> dict[str, Any]:
    store = checkpointer.store
    head = checkpointer.covering_head(max((r.seq + 1 for r in rows), default=0))
    tree = tree_at(store, head.tree_size)
    if tree.size != head.tree_size or tree.root() != head.root_hash:
        raise LedgerCorrupt("the ledger does not match its latest signed tree head: run `eahub audit verify`")
    bundle = {
        "format": FORMAT,
        "created_at": entry_format.iso(datetime.now(UTC)),
        "selection": selection,
        "public_key_pem": public_key_pem(checkpointer.signer.public_key),
        "tree_head": head.to_json(),
        "entries": [
            {
                "ledger_seq": r.seq,
                "entry_id": r.entry_id,
                "entry": r.entry.decode("utf-8"),
                "leaf_hash": r.leaf_hash.hex(),
                "inclusion_proof": [h.hex() for h in tree.inclusion_proof(r.seq, head.tree_size)],
            }
            for r in rows
        ],
    }
    signature = checkpointer.signer.sign_document(FORMAT.encode(), manifest(bundle))
    bundle["manifest_signature"] = base64.b64encode(signature).decode()
    return bundle


def manifest(bundle: dict[str, Any]) -> bytes:
    """What the hub signs about the bundle as a whole: what was asked for, when, against which head, and
    exactly which entries answer it, so that no entry can be dropped or added without breaking it."""
    doc = {
        "format": bundle["format"],
        "created_at": bundle["created_at"],
        "selection": bundle["selection"],
        "tree_head": bundle["tree_head"],
        "entries": [[e["ledger_seq"], e["entry_id"], e["leaf_hash"]] for e in bundle["entries"]],
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class BundleResult:
    ok: bool
    entries: int
    tree_size: int | None = None
    key_id: str | None = None
    problem: str | None = None


def verify_bundle(bundle: dict[str, Any], trusted_key: Ed25519PublicKey | None = None) -> BundleResult:
    """Check the head's signature and every entry's inclusion proof. With `trusted_key`, the bundle must
    also be signed by that key (otherwise the key inside the bundle is taken on trust)."""
    try:
        if bundle.get("format") != FORMAT:
            return BundleResult(False, 0, problem=f"not an evidence bundle (format is not {FORMAT})")
        key = load_public_key_pem(bundle["public_key_pem"])
        if trusted_key is not None and key_id(key) != key_id(trusted_key):
            return BundleResult(False, 0, problem="bundle is signed by a key other than the trusted public key")
        head = TreeHead.from_json(bundle["tree_head"])
        problem = head_problem(head, key)
        if problem is not None:
            return BundleResult(False, 0, head.tree_size, head.key_id, problem)
        entries = bundle["entries"]
        for item in entries:
            data = item["entry"].encode("utf-8")
            leaf = merkle.leaf_hash(data)
            doc = entry_format.decode(data)
            where = f"entry {item.get('entry_id')} (seq {item.get('ledger_seq')})"
            if doc.get("entry_id") != item["entry_id"] or doc.get(entry_format.SEQ) != item["ledger_seq"]:
                return BundleResult(
                    False,
                    len(entries),
                    head.tree_size,
                    head.key_id,
                    f"{where}: its id or position differs from the hashed entry",
                )
            proof = [bytes.fromhex(h) for h in item["inclusion_proof"]]
            if not merkle.verify_inclusion(leaf, item["ledger_seq"], head.tree_size, proof, head.root_hash):
                return BundleResult(
                    False,
                    len(entries),
                    head.tree_size,
                    head.key_id,
                    f"{where}: not included in the signed tree (entry or proof altered)",
                )
        # Every entry is genuine; now that none was dropped or added, and the selection is what was asked.
        try:
            key.verify(base64.b64decode(bundle["manifest_signature"]), FORMAT.encode() + b"\x00" + manifest(bundle))
        except InvalidSignature:
            return BundleResult(False, len(entries), head.tree_size, head.key_id,
                                "the bundle's manifest signature does not match: entries were added or removed, "
                                "or the selection altered, after export")
        return BundleResult(True, len(entries), head.tree_size, head.key_id)
    except (KeyError, TypeError, ValueError) as exc:
        return BundleResult(False, 0, problem=f"malformed bundle: {type(exc).__name__}: {exc}")
