"""Board activity (`eahub.board-activity`) as ledger entries: each BoardActivity record becomes one
AuditEntry of the same kind (CONSULTATION, ACTION, DISCLOSURE, ERASURE), with the same id, so a replay
dedupes. Both records hold no personal data; this only moves fields across."""

from __future__ import annotations

from typing import Any

_DETAIL_FIELDS = ("part", "role", "relationship", "outcome", "action", "session_ref")


def _reason(activity: dict[str, Any]) -> str:
    kind = activity["kind"]
    if kind == "CONSULTATION":
        return f"viewed {activity.get('part') or 'case'} for {activity.get('purpose') or 'unstated purpose'}"
    if kind == "ACTION":
        change = f" ({activity['from_state']} -> {activity['to_state']})" if activity.get("from_state") else ""
        return f"{activity.get('action') or 'changed'}{change}"
    if kind == "DISCLOSURE":
        return f"disclosed {activity.get('part') or 'case'} to {activity.get('details', {}).get('recipient', '?')}"
    return f"erased {activity.get('part') or 'personal data'}"


def to_ledger_entry(activity: dict[str, Any]) -> dict[str, Any]:
    """One decoded BoardActivity record -> one AuditEntry record."""
    details = {k: str(v) for k, v in (activity.get("details") or {}).items()}
    for name in _DETAIL_FIELDS:
        if activity.get(name) is not None:
            details[name] = str(activity[name])
    if activity.get("from_state") is not None:
        details["from"] = str(activity["from_state"])
    if activity.get("to_state") is not None:
        details["to"] = str(activity["to_state"])
    details["board"] = activity["agency"]
    return {
        "entry_id": activity["activity_id"],
        "kind": activity["kind"],
        "occurred_at": activity["occurred_at"],
        "actor": activity["actor"],
        "event_id": activity.get("event_id"),
        "decision_id": None,
        "subject_ref": activity.get("subject_ref"),
        "source_agency": activity.get("source_agency"),
        "recipient": activity["agency"],
        "category": None,
        "isa_id": activity.get("isa_id"),
        "isa_version": None,
        "lawful_basis": None,
        "purpose": activity.get("purpose"),
        "policy_revision": None,
        "fields_shared": [],
        "fields_withheld": [],
        "reasons": [_reason(activity)],
        "case_id": activity.get("case_id"),
        "details": details,
    }
