"""Erasure of a subject: destroy the subject's vault keys (their payloads become unreadable), record an
ERASURE entry in the ledger (which holds only the pseudonym, so the chain stays intact), sign a head."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eahub.audit import entry_format
from eahub.audit.checkpoints import Checkpointer
from eahub.audit.signing import TreeHead
from eahub.audit.vault import Vault
from eahub.core import ids


@dataclass(frozen=True)
class ErasureResult:
    entry_id: str
    payloads_unreadable: int
    tree_head: TreeHead | None


def erase_subject(
    vault: Vault, checkpointer: Checkpointer, subject_ref: str, actor: str, reason: str = "erasure request"
) -> ErasureResult:
    now = datetime.now(UTC)
    now_ms = entry_format.to_ms(now)
    unreadable = vault.erase(subject_ref, now_ms)
    entry = {
        "entry_id": ids.derive("audit", "ERASURE", subject_ref, str(now_ms)),
        "kind": "ERASURE",
        "occurred_at": now,
        "actor": actor,
        "subject_ref": subject_ref,
        "reasons": [reason],
        "details": {"vault_payloads_made_unreadable": str(unreadable)},
    }
    checkpointer.store.append([entry], now)
    return ErasureResult(entry["entry_id"], unreadable, checkpointer.checkpoint())
