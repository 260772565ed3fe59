"""IG review of break-glass overrides: an ACTION entry naming the OVERRIDE it reviews takes that override off
the review queue (`queries.overrides_pending`). The outcome is a code, never free text about the person."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from eahub.audit.queries import REVIEWED_ENTRY, overrides_pending
from eahub.audit.store import EntryFilter, LedgerStore
from eahub.core.audit_entries import audit_entry

OUTCOMES = ("upheld", "not-upheld", "referred-to-dpo")


class ReviewError(ValueError):
    pass


@dataclass(frozen=True)
class ReviewResult:
    entry_id: str
    override_entry_id: str
    outcome: str


def review_override(store: LedgerStore, override_entry_id: str, actor: str, outcome: str) -> ReviewResult:
    if outcome not in OUTCOMES:
        raise ReviewError(f"outcome must be one of {', '.join(OUTCOMES)}")
    pending = {o["entry_id"]: o for o in overrides_pending(store, EntryFilter())}
    override = pending.get(override_entry_id)
    if override is None:
        raise ReviewError(f"no override awaiting review has entry id {override_entry_id}")
    now = datetime.now(UTC)
    entry = audit_entry(
        "ACTION", id_facts=("ig-review", override_entry_id), actor=actor, occurred_at=now,
        event_id=override.get("event_id"), decision_id=override.get("decision_id"),
        subject_ref=override.get("subject_ref"), source_agency=override.get("source_agency"),
        recipient=override.get("recipient"), isa_id=override.get("isa_id"),
        reasons=[f"IG review of break-glass override: {outcome}"],
        details={REVIEWED_ENTRY: override_entry_id, "action": "ig-review", "outcome": outcome},
    )
    store.append([entry], now)
    return ReviewResult(entry["entry_id"], override_entry_id, outcome)
