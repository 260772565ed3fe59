"""Erasure from the console: a preview naming what will be destroyed (the subject's vault payloads, by case and
recipient, and IG review notes about them), then the erasure itself (`erasure.erase_subject`: keys destroyed,
ERASURE entry, head signed), the review notes deleted, an erasure request published to `eahub.erasure` for the
boards (when a publisher is given), and a full verification showing the ledger still verifies. Retention the
same way: a preview of the payloads past their retention, then their deletion, an ERASURE entry, a verification."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select

from eahub.audit.bootstrap import AuditParts
from eahub.audit.console.integrity import Integrity, Verification
from eahub.audit.console.tables import review_notes
from eahub.audit.console.trail import ig_actor
from eahub.audit.erasure import erase_subject
from eahub.audit.tables import vault_payloads
from eahub.core.audit_entries import audit_entry
from eahub.core.erasure import erasure_message
from eahub.core.messages import OutboundMessage

Publish = Callable[[list[OutboundMessage]], None]


@dataclass(frozen=True)
class ErasurePreview:
    subject_ref: str
    payloads: list[dict[str, Any]]  # case_id, recipient, kind (readable ones only)
    review_notes: int


@dataclass(frozen=True)
class ErasureDone:
    entry_id: str
    payloads_unreadable: int
    notes_deleted: int
    board_request_published: bool
    verification: Verification


def preview(parts: AuditParts, subject_ref: str) -> ErasurePreview:
    payloads = [{"case_id": p.case_id, "recipient": p.recipient, "kind": p.kind}
                for p in parts.vault.payloads(subject_ref) if not p.erased]
    with parts.engine.connect() as conn:
        notes = conn.scalar(select(func.count()).select_from(review_notes)
                            .where(review_notes.c.subject_ref == subject_ref)) or 0
    return ErasurePreview(subject_ref, payloads, int(notes))


def erase(parts: AuditParts, integrity: Integrity, subject_ref: str, login: str, reason: str = "SUBJECT_REQUEST",
          publish: Publish | None = None, request_id: str | None = None) -> ErasureDone:
    request_id = request_id or str(uuid.uuid4())
    published = False
    if publish is not None:  # the boards first: if the broker is down nothing is erased and the officer retries
        publish([erasure_message(subject_ref, request_id, ig_actor(login), reason)])
        published = True
    result = erase_subject(parts.vault, parts.checkpointer, subject_ref, ig_actor(login), reason, request_id)
    with parts.engine.begin() as conn:
        notes = conn.execute(delete(review_notes).where(review_notes.c.subject_ref == subject_ref)).rowcount
    return ErasureDone(result.entry_id, result.payloads_unreadable, int(notes or 0), published,
                       integrity.verify("after-erasure"))


@dataclass(frozen=True)
class RetentionPreview:
    now_ms: int
    payloads: list[dict[str, Any]]  # case_id, recipient, kind, expires_at_ms: past their retention


def retention_preview(parts: AuditParts, now_ms: int | None = None) -> RetentionPreview:
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    t = vault_payloads
    with parts.engine.connect() as conn:
        rows = conn.execute(select(t.c.case_id, t.c.recipient, t.c.kind, t.c.expires_at_ms)
                            .where(t.c.expires_at_ms <= now_ms).order_by(t.c.expires_at_ms)).all()
    return RetentionPreview(now_ms, [dict(r._mapping) for r in rows])


def apply_retention(parts: AuditParts, integrity: Integrity, login: str, now_ms: int) -> tuple[int, Verification]:
    """Delete the payloads past retention at `now_ms` (the time the officer confirmed), record an ERASURE entry
    (counts only, no subject), and verify the trail."""
    removed = parts.vault.expire(now_ms)
    now = datetime.now(UTC)
    entry = audit_entry("ERASURE", id_facts=("retention", str(now_ms)), actor=ig_actor(login), occurred_at=now,
                        reasons=["retention: vault payloads past their retention period deleted"],
                        details={"vault_payloads_deleted": str(removed), "retention_cutoff_ms": str(now_ms)})
    parts.store.append([entry], now)
    return removed, integrity.verify("after-retention")
