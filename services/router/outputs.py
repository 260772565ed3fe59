"""What the router emits for one decided event: a routed case per recipient shared with, and audit
entries for the decision, every disclosure and every refusal (in one message). Pure functions; ids are
deterministic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eahub.core import avro_codec, cloudevents, ids, schemas, topics
from eahub.core.audit_entries import audit_entries_message, audit_entry, audit_message
from eahub.core.messages import OutboundMessage, Publisher
from eahub.policy.impact import FACTS_KEY
from eahub.policy.model import Decision, Override, RecipientDecision
from eahub.router.facts_window import decided_facts
from eahub.router.projection import project

ROUTER_SOURCE = "/eahub/router"


@dataclass(frozen=True)
class ResponseTimes:
    """Minutes to respond per police grade (configurable: EAHUB_GRADE2_RESPONSE_MINUTES, ...)."""

    grade2_minutes: int = 60
    grade3_minutes: int = 48 * 60

    def due_by(self, grade: str, reported_at: datetime) -> datetime:
        minutes = self.grade2_minutes if grade == "GRADE_2" else self.grade3_minutes
        return reported_at + timedelta(minutes=minutes)


def outputs_for(event: dict[str, Any], decision: Decision, subject_ref: str, now: datetime,
                times: ResponseTimes, origin: dict[str, str] | None = None,
                actor: str = "router", facts: str | None = None) -> list[OutboundMessage]:
    """The routed cases, then one `eahub.AuditEntries` message with the DECISION entry and every DISCLOSURE,
    REFUSAL and OVERRIDE entry of the event. `origin`: where the event was read (inbound topic, partition,
    offset), kept on the DECISION entry so that a later break-glass override can find the original message.
    `facts`: the event's `decided_facts`, when the caller has them already."""
    out = [_routed_case(event, decision, r, subject_ref, now, times) for r in decision.shares]
    decision_entry = _entry("DECISION", event, decision, None, subject_ref, now, actor)
    # what the policy decided on (no personal value): `eahub policy impact` replays it
    decision_entry["details"][FACTS_KEY] = facts if facts is not None else decided_facts(event, now.date())
    decision_entry["details"].update(origin or {})
    entries = [decision_entry]
    for r in decision.recipients:
        entries.append(_entry("DISCLOSURE" if r.shared else "REFUSAL", event, decision, r, subject_ref, now, actor))
        if r.override:  # a break-glass share also enters the IG review queue
            entries.append(_entry("OVERRIDE", event, decision, r, subject_ref, now, actor))
    out.append(audit_entries_message(entries, ROUTER_SOURCE))  # one message: the audit service appends all or none
    return out


def publish_records_first(publisher: Publisher, outputs: list[OutboundMessage]) -> None:
    """Publish the audit entries and dead letters, and only once they are acknowledged, the routed cases.

    Without transactions a crash can split one event's outputs. This order means the split can only
    over-report (an entry for a case that a replay then re-sends), never deliver a case that the audit trail
    does not record — which a replay under a newer policy revision, with new ids, could otherwise leave."""
    records = [m for m in outputs if not m.topic.startswith(topics.BOARD_PREFIX)]
    cases = [m for m in outputs if m.topic.startswith(topics.BOARD_PREFIX)]
    publisher.publish(records)
    publisher.publish(cases)


def override_outputs(event: dict[str, Any], decision: Decision, r: RecipientDecision, subject_ref: str,
                     now: datetime, times: ResponseTimes, override: Override, justification_sha256: str,
                     origin: dict[str, str]) -> list[OutboundMessage]:
    """A granted break-glass share: the routed case for that one recipient (carrying the justification), and in
    one audit message its DISCLOSURE and the OVERRIDE entry that puts it on the IG review queue."""
    actor = f"override:{override.actor}"
    details = {"override_role": override.role, "override_actor": override.actor,
               "justification_sha256": justification_sha256, **origin}
    case = _routed_case(event, decision, r, subject_ref, now, times,
                        extra_reasons=(f"break-glass justification: {override.justification}",))
    entries = []
    for kind in ("DISCLOSURE", "OVERRIDE"):
        entry = _entry(kind, event, decision, r, subject_ref, now, actor)
        entry["details"].update(details)
        entries.append(entry)
    return [case, audit_entries_message(entries, ROUTER_SOURCE)]


def override_attempt_entry(event: dict[str, Any], decision: Decision, r: RecipientDecision, subject_ref: str,
                           now: datetime, override: Override, justification_sha256: str) -> OutboundMessage:
    """A refused break-glass attempt: recorded as an ACTION with the policy's reasons; nothing is shared."""
    entry = _entry("ACTION", event, decision, r, subject_ref, now, f"override:{override.actor}")
    entry["details"].update({"action": "break-glass-refused", "override_role": override.role,
                             "override_actor": override.actor, "justification_sha256": justification_sha256})
    return _audit(entry)


def policy_change_entry(previous: str | None, current: str, first_event_id: str, now: datetime,
                        actor: str = "router", impact: dict[str, str] | None = None) -> OutboundMessage:
    """The router started deciding under a new policy revision (at start-up, or after a hot reload). The id
    includes the first event decided under it, so a replay dedupes but a later A -> B -> A is recorded."""
    entry = audit_entry(
        "POLICY_CHANGE", id_facts=(previous or "", current, first_event_id), actor=actor, occurred_at=now,
        policy_revision=current,
        reasons=[f"policy revision {current} in force" + (f", replacing {previous}" if previous else "")],
        details={"previous_revision": previous or "", **(impact or {})},
    )
    return audit_message(entry, ROUTER_SOURCE, key="policy")


def unavailable_entry(event: dict[str, Any], subject_ref: str, now: datetime, reason: str,
                      actor: str = "router") -> OutboundMessage:
    """The audit record of an event parked because no policy decision could be had: nothing was shared."""
    entry = audit_entry(
        "DECISION", id_facts=(event["event_id"], "", "policy-unavailable"), actor=actor, occurred_at=now,
        **_event_fields(event, ids.derive("unavailable", event["event_id"]), subject_ref),
        reasons=[f"no decision: {reason}; nothing was shared and the event was parked"],
        details={"outcome": "policy-unavailable"},
    )
    return _audit(entry)


def _routed_case(event: dict[str, Any], decision: Decision, r: RecipientDecision, subject_ref: str,
                 now: datetime, times: ResponseTimes, extra_reasons: tuple[str, ...] = ()) -> OutboundMessage:
    case_id = ids.case_id(event["event_id"], r.agency, decision.decision_id)
    record = {
        "case_id": case_id,
        "event_id": event["event_id"],
        "recipient": r.agency,
        "source_agency": event["source_agency"],
        "subject_ref": subject_ref,
        "decision_id": decision.decision_id,
        "policy_revision": decision.policy_revision,
        "isa_id": r.isa_id or "",
        "isa_version": r.isa_version or "",
        "lawful_basis": r.lawful_basis or "",
        "purpose": r.purpose or "",
        "shared_fields": list(r.fields_shared),
        "withheld_fields": list(r.fields_withheld),
        "reasons": [*r.reasons, *extra_reasons],
        "override": r.override,
        "due_by": times.due_by(event["grade"], event["reported_at"]),
        "routed_at": now,
        "concern": project(event, frozenset(r.fields_shared)),
    }
    headers = cloudevents.headers(ce_id=case_id, source=ROUTER_SOURCE, ce_type="uk.gov.eahub.case.routed.v1",
                                  subject=subject_ref, time=now)
    headers += [("eahub_decision_id", decision.decision_id.encode()),
                ("eahub_policy_revision", decision.policy_revision.encode())]
    return OutboundMessage(topics.board(r.agency), subject_ref.encode(),
                           avro_codec.encode(schemas.ROUTED_CASE, record, check=False), headers)


def _event_fields(event: dict[str, Any], decision_id: str, subject_ref: str) -> dict[str, Any]:
    return {"event_id": event["event_id"], "decision_id": decision_id, "subject_ref": subject_ref,
            "source_agency": event["source_agency"], "category": event["category"]}


def _entry(kind: str, event: dict[str, Any], decision: Decision, r: RecipientDecision | None,
           subject_ref: str, now: datetime, actor: str) -> dict[str, Any]:
    common = {**_event_fields(event, decision.decision_id, subject_ref), "policy_revision": decision.policy_revision}
    if r is None:
        shared = sorted(x.agency for x in decision.shares)
        refused = sorted(x.agency for x in decision.refusals)
        return audit_entry(
            kind, id_facts=(event["event_id"], "", decision.decision_id), actor=actor, occurred_at=now, **common,
            reasons=[f"shared with: {', '.join(shared) or 'none'}", f"refused: {', '.join(refused) or 'none'}"],
            details={"grade": event["grade"], "security_marking": event["security_marking"],
                     "consent": event["consent"]["status"], "shared_with": ",".join(shared),
                     "refused": ",".join(refused)},
        )
    return audit_entry(
        kind, id_facts=(event["event_id"], r.agency, decision.decision_id), actor=actor, occurred_at=now, **common,
        recipient=r.agency, isa_id=r.isa_id, isa_version=r.isa_version, lawful_basis=r.lawful_basis,
        purpose=r.purpose, fields_shared=list(r.fields_shared), fields_withheld=list(r.fields_withheld),
        reasons=list(r.reasons),
        case_id=ids.case_id(event["event_id"], r.agency, decision.decision_id) if r.shared else None,
    )


def _audit(entry: dict[str, Any]) -> OutboundMessage:
    return audit_message(entry, ROUTER_SOURCE)
