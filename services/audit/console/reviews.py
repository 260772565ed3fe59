"""The IG review queue: break-glass overrides awaiting review (with the justification read from the vault and
checked against the SHA-256 the ledger keeps), self-claimed board access (a board view whose purpose was
"other"), and unusual-access findings (many views of cases not allocated to the viewer, views outside working
hours in Europe/London, views of a case after it closed). Reviewing an item appends an ACTION naming it in
`details.reviewed_entry_id` (so it leaves the queue, as `review.review_override` does); the officer's note is
kept in `ig_review_notes`, the ledger holds only its hash."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, insert

from eahub.audit import entry_format
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.tables import review_notes
from eahub.audit.console.trail import ig_actor
from eahub.audit.queries import REVIEWED_ENTRY, overrides_pending
from eahub.audit.review import OUTCOMES
from eahub.audit.store import EntryFilter, LedgerStore
from eahub.audit.vault import Vault
from eahub.core import ids
from eahub.core.audit_entries import audit_entry

LONDON = ZoneInfo("Europe/London")
JUSTIFICATION = "break-glass justification: "


class ReviewError(ValueError):
    pass


@dataclass
class QueueItem:
    item_id: str  # the ledger entry reviewed, or a finding's derived id
    kind: str  # override | self-claimed | unallocated-views | out-of-hours | after-closure
    when: str
    actor: str
    summary: str
    subject_ref: str | None = None
    event_id: str | None = None
    case_id: str | None = None
    recipient: str | None = None
    shared: list[str] = field(default_factory=list)
    justification: str | None = None
    justification_ok: bool | None = None  # text from the vault matches the ledger's hash
    entries: list[str] = field(default_factory=list)


def _of_kind(store: LedgerStore, kind: str) -> list[dict[str, Any]]:
    return [r.document() for r in store.find(EntryFilter(kinds=(kind,)))]


def justification_of(vault: Vault | None, override: dict[str, Any]) -> tuple[str | None, bool | None]:
    """The justification text of an override's routed case, from the vault, and whether its SHA-256 equals the
    one the ledger recorded (None when the payload is gone: erased or expired)."""
    if vault is None or not override.get("subject_ref"):
        return None, None
    for p in vault.payloads(override["subject_ref"]):
        if p.case_id == override.get("case_id") and p.record is not None:
            for reason in p.record.get("reasons") or []:
                if reason.startswith(JUSTIFICATION):
                    text = reason[len(JUSTIFICATION):]
                    digest = hashlib.sha256(text.encode()).hexdigest()
                    return text, digest == override["details"].get("justification_sha256")
    return None, None


def findings(store: LedgerStore, settings: ConsoleSettings,
             actions: list[dict[str, Any]] | None = None) -> list[QueueItem]:
    views = [d for d in _of_kind(store, "CONSULTATION") if d["actor"].startswith("board:")]
    actions = _of_kind(store, "ACTION") if actions is None else actions
    out: list[QueueItem] = []
    for v in views:
        d = v["details"]
        if d.get("relationship") == "self-claimed" or v.get("purpose") == "other":
            out.append(QueueItem(v["entry_id"], "self-claimed", v["occurred_at"], v["actor"],
                                 f"self-claimed access to {d.get('part') or 'a case'}", v.get("subject_ref"),
                                 v.get("event_id"), v.get("case_id"), v.get("recipient"), entries=[v["entry_id"]]))
    not_allocated: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in views:
        d = v["details"]
        if d.get("allocated_to_actor") == "false" or d.get("relationship") not in (None, "allocated"):
            not_allocated[v["actor"]].append(v)
    for actor, vs in sorted(not_allocated.items()):
        cases = {v.get("case_id") for v in vs}
        if len(cases) >= settings.unallocated_views_threshold:
            out.append(QueueItem(ids.derive("ig-finding", "unallocated-views", actor, str(len(cases))),
                                 "unallocated-views", vs[-1]["occurred_at"], actor,
                                 f"viewed {len(cases)} cases not allocated to them (threshold "
                                 f"{settings.unallocated_views_threshold})", entries=[v["entry_id"] for v in vs]))
    days = {int(x) for x in settings.working_days.split(",") if x.strip()}
    for v in views:
        local = entry_format.parse_iso(v["occurred_at"]).astimezone(LONDON)
        if local.weekday() not in days or not settings.working_hours_start <= local.hour < settings.working_hours_end:
            out.append(QueueItem(ids.derive("ig-finding", "out-of-hours", v["entry_id"]), "out-of-hours",
                                 v["occurred_at"], v["actor"], f"viewed a case at {local:%a %H:%M} UK time",
                                 v.get("subject_ref"), v.get("event_id"), v.get("case_id"), v.get("recipient"),
                                 entries=[v["entry_id"]]))
    closed_at: dict[str, str] = {}
    for a in actions:
        if a["actor"].startswith("board:") and a.get("case_id"):
            if a["details"].get("to") == "CLOSED":
                closed_at[a["case_id"]] = a["occurred_at"]
            elif a["details"].get("to") == "REOPENED":
                closed_at.pop(a["case_id"], None)
    for v in views:
        closed = closed_at.get(v.get("case_id") or "")
        if closed and entry_format.parse_iso(v["occurred_at"]) > entry_format.parse_iso(closed):
            out.append(QueueItem(ids.derive("ig-finding", "after-closure", v["entry_id"]), "after-closure",
                                 v["occurred_at"], v["actor"], "viewed a case after it closed", v.get("subject_ref"),
                                 v.get("event_id"), v.get("case_id"), v.get("recipient"), entries=[v["entry_id"]]))
    return out


def review_queue(store: LedgerStore, vault: Vault | None, settings: ConsoleSettings) -> list[QueueItem]:
    actions = _of_kind(store, "ACTION")
    reviewed = {a["details"].get(REVIEWED_ENTRY) for a in actions}
    items = []
    for o in overrides_pending(store, EntryFilter()):
        text, ok = justification_of(vault, o)
        items.append(QueueItem(o["entry_id"], "override", o["occurred_at"], o["actor"],
                               f"break-glass share to {o.get('recipient')}", o.get("subject_ref"), o.get("event_id"),
                               o.get("case_id"), o.get("recipient"), list(o.get("fields_shared") or []), text, ok,
                               [o["entry_id"]]))
    items += [f for f in findings(store, settings, actions) if f.item_id not in reviewed]
    return sorted(items, key=lambda i: i.when)


def review_item(store: LedgerStore, engine: Engine, vault: Vault | None, settings: ConsoleSettings,
                item_id: str, login: str, outcome: str, note: str) -> dict[str, Any]:
    """Uphold, not uphold or refer one queue item with a note (kept in `ig_review_notes`, hashed in the entry)."""
    if outcome not in OUTCOMES:
        raise ReviewError(f"outcome must be one of {', '.join(OUTCOMES)}")
    if not note.strip():
        raise ReviewError("a review needs a note")
    item = next((i for i in review_queue(store, vault, settings) if i.item_id == item_id), None)
    if item is None:
        raise ReviewError("no item awaiting review has that id")
    now = datetime.now(UTC)
    entry = audit_entry(
        "ACTION", id_facts=("ig-review", item_id), actor=ig_actor(login), occurred_at=now,
        event_id=item.event_id, subject_ref=item.subject_ref, recipient=item.recipient, case_id=item.case_id,
        reasons=[f"IG review of {item.kind}: {outcome}"],
        details={REVIEWED_ENTRY: item_id, "action": "ig-review", "review_kind": item.kind, "outcome": outcome,
                 "note_sha256": hashlib.sha256(note.encode()).hexdigest(), "reviewed_actor": item.actor},
    )
    store.append([entry], now)
    with engine.begin() as conn:
        conn.execute(insert(review_notes).values(review_entry_id=entry["entry_id"], item_id=item_id,
                                                 subject_ref=item.subject_ref, login=login,
                                                 created_at_ms=entry_format.to_ms(now), note=note))
    return entry
