"""What makes one inbound event a permanent failure beyond what `inbound.py` reads: times outside the sane
window (checked before anything is computed from them), and any error while deciding the event or building
its outputs. Each becomes a `Rejected`, so a dead letter, described by the error's type and the step that
failed — never the error's text, which may quote a value of the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eahub.core.audit_entries import audit_entry, audit_message
from eahub.core.messages import OutboundMessage
from eahub.core.time_window import time_errors
from eahub.router.inbound import Rejected
from eahub.router.outputs import ROUTER_SOURCE

EVENT_ID_REUSED = Rejected("UNROUTABLE", "event-id-reused: this event_id was already routed with other content; "
                                         "nothing was shared")


def check_event(record: dict[str, Any], now: datetime) -> dict[str, Any] | Rejected:
    errors = time_errors(record, now)
    if errors:
        return Rejected("SCHEMA_INVALID", "; ".join(str(e) for e in errors))
    return record


def failed(step: str, exc: BaseException) -> Rejected:
    return Rejected("UNROUTABLE", f"{step} failed: {type(exc).__name__}")


def reuse_entry(event: dict[str, Any], digest: str, subject_ref: str, now: datetime) -> OutboundMessage:
    """The audit record of a refused reuse of an event id: an ACTION saying so (one per distinct content)."""
    entry = audit_entry(
        "ACTION", id_facts=(event["event_id"], digest, "event-id-reused"), actor="router", occurred_at=now,
        event_id=event["event_id"], subject_ref=subject_ref, source_agency=event["source_agency"],
        category=event["category"],
        reasons=["event id reused with different content: refused and dead-lettered; nothing was shared, the "
                 "cases of this event id keep the content first routed"],
        details={"action": "event-id-reused"},
    )
    return audit_message(entry, ROUTER_SOURCE)
