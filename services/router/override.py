"""Break-glass: a designated role overrides a refusal for one event and one recipient, with a mandatory
justification. The original event is read again from its inbound topic (the decision entry of the audit
trail says where), decided again with the override, and — only if the policy grants it — shared with a
bounded field set, marked as an override, and put on the IG review queue. Granted or refused, the
attempt is audited, and so is every request that cannot be attempted (no role, no justification, unknown
event, not the originator). The justification's text goes to the recipient with the case (and so to the
encrypted vault); the chain keeps only its SHA-256.

A plain function over small ports; the hub composes them once at start-up (`eahub.hub.break_glass`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eahub.core import avro_codec, ids, schemas
from eahub.core.audit_entries import audit_entry, audit_message
from eahub.core.messages import Publisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.policy.break_glass import (
    BreakGlassRequest,
    OverrideError,
    OverrideForbidden,
    OverrideInvalid,
    OverrideOutcome,
)
from eahub.policy.engine import PolicyEngine
from eahub.policy.model import Decision, Override, PolicyRequest
from eahub.router.outputs import (
    ROUTER_SOURCE,
    ResponseTimes,
    override_attempt_entry,
    override_outputs,
    publish_records_first,
)

Position = tuple[str, int, int]  # inbound topic, partition, offset


@dataclass
class BreakGlassPorts:
    engine: PolicyEngine
    publisher: Publisher
    pseudonymiser: Pseudonymiser
    times: ResponseTimes
    find_origin: Callable[[str], Position | None]  # event id -> where the router read it (from the audit trail)
    read_original: Callable[[Position], bytes | None]  # the message value at that position, if still there
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def find_origin(trail: list[dict[str, Any]]) -> Position | None:
    """Where the router read an event, from the DECISION entry of its audit trail."""
    for entry in trail:
        details = entry.get("details") or {}
        if entry.get("kind") == "DECISION" and "inbound_topic" in details:
            return details["inbound_topic"], int(details["inbound_partition"]), int(details["inbound_offset"])
    return None


def handle_break_glass(req: BreakGlassRequest, ports: BreakGlassPorts) -> OverrideOutcome:
    now = ports.clock()

    def refuse(code: str, error: type[OverrideError], message: str, event: dict[str, Any] | None = None) -> None:
        ports.publisher.publish([_refused_attempt(req, code, message, event, ports.pseudonymiser, now)])
        raise error(message)

    if not req.justification.strip():
        refuse("no-justification", OverrideInvalid, "a justification is mandatory for a break-glass override")
    if not req.role:
        refuse("no-role", OverrideForbidden,
               "this token carries no break-glass role; ask the operator for a token issued with --role")
    origin = ports.find_origin(req.event_id)
    if origin is None:
        refuse("unknown-event", OverrideError, "no routing decision is recorded for this event; nothing to override")
        raise AssertionError  # refuse() raised
    value = ports.read_original(origin)
    topic, partition, offset = origin
    if value is None:
        refuse("original-unavailable", OverrideError,
               f"the original message ({topic} [{partition}] @{offset}) is no longer on the broker")
    _, event = avro_codec.decode(value, expected=schemas.CONCERN_EVENT)
    if event["event_id"] != req.event_id:
        refuse("original-mismatch", OverrideError, "the message at the recorded position is not this event")
    if req.requester_agency is not None and req.requester_agency != event["source_agency"]:
        refuse("not-originator", OverrideForbidden, "only the agency that published this event can break glass on it",
               event)
    if req.recipient == event["source_agency"]:
        refuse("own-source", OverrideInvalid, "the recipient is the event's own source agency", event)
    override = Override(req.recipient, req.role or "", req.actor, req.justification, req.request_id)
    decision: Decision = ports.engine.decide([PolicyRequest(event=event, today=now.date(), override=override)])[0]
    try:
        r = decision.for_agency(override.recipient)
    except KeyError:
        refuse("unknown-recipient", OverrideInvalid, f"{override.recipient} is not a registered recipient", event)
        raise AssertionError from None  # refuse() raised
    subject_ref = ports.pseudonymiser.subject_ref(event)
    justification_sha256 = hashlib.sha256(override.justification.encode()).hexdigest()
    granted = r.shared and r.override
    position = {"inbound_topic": topic, "inbound_partition": str(partition), "inbound_offset": str(offset)}
    outputs = (override_outputs(event, decision, r, subject_ref, now, ports.times, override, justification_sha256,
                                position) if granted
               else [override_attempt_entry(event, decision, r, subject_ref, now, override, justification_sha256)])
    publish_records_first(ports.publisher, outputs)
    return OverrideOutcome(
        granted=granted, event_id=event["event_id"], recipient=r.agency, decision_id=decision.decision_id,
        case_id=ids.case_id(event["event_id"], r.agency, decision.decision_id) if granted else None,
        reasons=r.reasons,
    )


_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_AGENCY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,79}$")


def _refused_attempt(req: BreakGlassRequest, code: str, message: str, event: dict[str, Any] | None,
                     pseudonymiser: Pseudonymiser, now: datetime) -> Any:
    """An ACTION entry for a break-glass request that could not be attempted: who asked, for what, and why not.
    What the requester typed is recorded only where it has the shape of an event id or an agency id (anything
    else could be any text, even a name)."""
    about: dict[str, Any] = {}
    if event is not None:
        about = {"subject_ref": pseudonymiser.subject_ref(event), "source_agency": event["source_agency"],
                 "category": event["category"]}
    entry = audit_entry(
        "ACTION", id_facts=("break-glass-refused", req.request_id), actor=f"override:{req.actor}",
        occurred_at=now, event_id=req.event_id if _UUID.match(req.event_id) else None,
        recipient=req.recipient if _AGENCY_ID.match(req.recipient) else None, reasons=[message], **about,
        details={"action": "break-glass-refused", "refusal": code, "override_role": req.role or "",
                 "requester_agency": req.requester_agency or "operator",
                 "justification_given": "yes" if req.justification.strip() else "no"},
    )
    return audit_message(entry, ROUTER_SOURCE)
