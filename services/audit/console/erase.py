"""Erasure from the console: a preview naming what will be destroyed (the subject's vault payloads, by case and
recipient, and IG review notes about them), then the erasure itself (`erasure.erase_subject`: keys destroyed,
ERASURE entry, head signed), the review notes deleted, an erasure request published to `eahub.erasure` for the
boards (when a publisher is given), and a full verification showing the ledger still verifies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select

from eahub.audit.bootstrap import AuditParts
from eahub.audit.console.integrity import Integrity, Verification
from eahub.audit.console.tables import review_notes
from eahub.audit.console.trail import ig_actor
from eahub.audit.erasure import erase_subject
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
