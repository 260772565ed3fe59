"""The console's own looking and doing on the trail: every view of ledger or vault content is a CONSULTATION,
every review an ACTION, every export a DISCLOSURE, every erasure an ERASURE, actor `ig:<login>`, appended
straight to the ledger (the console is the audit service) through the one entry builder. Details carry only
non-personal facts (the page, the entry or case ids looked at, a hash of the session id)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from eahub.audit.store import LedgerStore
from eahub.core.audit_entries import audit_entry

KINDS = ("CONSULTATION", "ACTION", "DISCLOSURE", "ERASURE")


def ig_actor(login: str) -> str:
    return f"ig:{login}"


def record(store: LedgerStore, kind: str, login: str, page: str, reason: str, *, subject_ref: str | None = None,
           details: dict[str, str] | None = None, request_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """Append one console entry and return it. `request_id` (one is made when absent) makes each act its own
    entry; a retried request with the same id is recorded once."""
    if kind not in KINDS:
        raise ValueError(f"console entries are {', '.join(KINDS)}")
    now = datetime.now(UTC)
    entry = audit_entry(kind, id_facts=("ig-console", login, page, request_id or str(uuid.uuid4())),
                        actor=ig_actor(login), occurred_at=now, subject_ref=subject_ref,
                        purpose="information governance", reasons=[reason],
                        details={"console_page": page, **(details or {})}, **fields)
    store.append([entry], now)
    return entry
