"""Erasure of a subject: destroy the subject's vault keys (their payloads become unreadable), record an
ERASURE entry in the ledger (which holds only the pseudonym, so the chain stays intact), sign a head."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from eahub.audit import entry_format
from eahub.audit.checkpoints import Checkpointer
from eahub.audit.signing import TreeHead
from eahub.audit.vault import Vault
from eahub.core.audit_entries import audit_entry


@dataclass(frozen=True)
class ErasureResult:
    entry_id: str
    payloads_unreadable: int
    tree_head: TreeHead | None


def erase_subject(
    vault: Vault, checkpointer: Checkpointer, subject_ref: str, actor: str, reason: str = "erasure request",
    request_id: str | None = None,
) -> ErasureResult:
    """`request_id` names this erasure request (one is made when absent): its entry id derives from it, so a
    retried request is recorded once and a later, separate request is recorded again."""
    now = datetime.now(UTC)
    unreadable = vault.erase(subject_ref, entry_format.to_ms(now))
    entry = audit_entry(
        "ERASURE", id_facts=(subject_ref, request_id or str(uuid.uuid4())), actor=actor, occurred_at=now,
        subject_ref=subject_ref, reasons=[reason], details={"vault_payloads_made_unreadable": str(unreadable)},
    )
    checkpointer.store.append([entry], now)
    return ErasureResult(entry["entry_id"], unreadable, checkpointer.checkpoint())
