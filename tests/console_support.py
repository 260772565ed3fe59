"""A seeded audit database for the IG console tests: one subject's event shared with adults' social care,
refused to children's social care and shared to mental health under break-glass (justification in the vault,
its SHA-256 in the ledger); another person's event; board views and actions on the subject's case (allocated,
self-claimed, not allocated, out of hours, after closure; acknowledge, SLA breach, close); a spoofed publish.
Entries are built with the one builder and appended straight to the real ledger store, as the services do."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eahub.audit.bootstrap import AuditParts
from eahub.audit.settings import AuditSettings
from eahub.core import ids
from eahub.core.audit_entries import audit_entry
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.router.projection import project
from tests.helpers import concern_event, initialised_audit

ADULTS, CHILDREN, MH, POLICE = "lancashire-cc-adults", "lancashire-cc-childrens", "lscft-mental-health", \
    "lancashire-police"
ISA, ISA_VERSION = "isa-lancs-adult-safeguarding", "2.1"
JUSTIFICATION = "Crisis team needs history now; Dr Jo Bloggs on call"
# Monday 4 May 2026, 10:00 UTC = 11:00 UK time (working hours)
T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)
SHARED = ["event_id", "occurred_at", "reported_at", "source_agency", "category", "grade", "security_marking",
          "district", "subject", "narrative", "referrer", "linked_people", "consent", "risk_factors"]
# what must never reach the subject's report
THIRD_PARTY = ("Sam Neighbour", "07700 900123", "PC 1234", "Caller worried about neighbour", "Jo Bloggs",
               "Other Person", "Kim Linked")


@dataclass
class Seeded:
    parts: AuditParts
    pseudonymiser: Pseudonymiser
    settings: HubSettings
    subject_ref: str
    other_ref: str
    event: dict[str, Any]
    case_adults: str
    override_entry_id: str
    self_claimed_entry_id: str


def _routed(event: dict[str, Any], subject_ref: str, recipient: str, decision: str, override: bool = False,
            reasons: list[str] | None = None) -> dict[str, Any]:
    return {"case_id": ids.case_id(event["event_id"], recipient, decision), "event_id": event["event_id"],
            "recipient": recipient, "source_agency": event["source_agency"], "subject_ref": subject_ref,
            "decision_id": decision, "policy_revision": "rev-1", "isa_id": ISA, "isa_version": ISA_VERSION,
            "lawful_basis": "Care Act 2014 s.42", "purpose": "safeguarding adults", "shared_fields": SHARED,
            "withheld_fields": ["subject.nhs_number"], "reasons": reasons or ["adult at risk"],
            "override": override, "due_by": T0 + timedelta(hours=1), "routed_at": T0,
            "concern": project(event, frozenset(SHARED))}


def _router_entry(kind: str, case: dict[str, Any], at: datetime, actor: str = "router", **extra: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"event_id": case["event_id"], "decision_id": case["decision_id"],
                              "subject_ref": case["subject_ref"], "source_agency": case["source_agency"],
                              "recipient": case["recipient"], "category": "VULNERABLE_ADULT", "isa_id": ISA,
                              "isa_version": ISA_VERSION, "lawful_basis": case["lawful_basis"],
                              "purpose": case["purpose"], "policy_revision": "rev-1",
                              "fields_shared": SHARED if kind != "REFUSAL" else [],
                              "fields_withheld": ["subject.nhs_number"], "reasons": ["adult at risk"],
                              "case_id": case["case_id"]}
    fields.update(extra)
    return audit_entry(kind, id_facts=(case["event_id"], case["recipient"], case["decision_id"]), actor=actor,
                       occurred_at=at, **fields)


def _board(kind: str, n: int, case: dict[str, Any], at: datetime, user: str = "u-1", **details: str) -> dict[str, Any]:
    return audit_entry(kind, id_facts=("board", str(n)), actor=f"board:{ADULTS}:{user}", occurred_at=at,
                       event_id=case["event_id"], subject_ref=case["subject_ref"], source_agency=POLICE,
                       recipient=ADULTS, case_id=case["case_id"], isa_id=ISA,
                       purpose=details.pop("purpose", "allocated"), reasons=[f"board {kind.lower()}"],
                       details={"board": ADULTS, **details})


def seed(tmp_path: Path, database_url: str | None = None) -> Seeded:
    settings = HubSettings(data_dir=tmp_path / "data",
                           database_url=database_url or f"sqlite:///{tmp_path / 'hub.db'}")
    parts = initialised_audit(settings, AuditSettings())
    pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
    event = concern_event(linked_people=[{"name": "Kim Linked", "role": "CARER"}])
    subject = pseudo.subject_ref(event)
    other_event = concern_event(subject={"name": "Other Person", "date_of_birth": event["subject"]["date_of_birth"],
                                         "nhs_number": "9000000009", "address": "1 Other Road"})
    other = pseudo.subject_ref(other_event)
    decision = ids.decision_id(event["event_id"], "rev-1")
    adults = _routed(event, subject, ADULTS, decision)
    children = _routed(event, subject, CHILDREN, decision)
    mh = _routed(event, subject, MH, decision, override=True,
                 reasons=["adult at risk", f"break-glass justification: {JUSTIFICATION}"])
    other_case = _routed(other_event, other, ADULTS, ids.decision_id(other_event["event_id"], "rev-1"))
    for case in (adults, mh, other_case):
        assert parts.vault.store(case)
    sha = hashlib.sha256(JUSTIFICATION.encode()).hexdigest()
    override = _router_entry("OVERRIDE", mh, T0 + timedelta(minutes=5), actor="override:duty-inspector",
                             details={"justification_sha256": sha, "override_role": "duty-inspector"})
    entries = [
        _router_entry("DECISION", adults, T0, case_id=None, recipient=None),
        _router_entry("DISCLOSURE", adults, T0),
        _router_entry("REFUSAL", children, T0, reasons=["recipient is not a party for this category"]),
        _router_entry("DISCLOSURE", mh, T0 + timedelta(minutes=5), actor="override:duty-inspector",
                      details={"justification_sha256": sha}),
        override,
        _router_entry("DISCLOSURE", other_case, T0),
        _spoof_entry(),  # the router's own record of a spoofed publish (nwas's topic, claiming to be the police)
    ]
    board = [
        _board("CONSULTATION", 1, adults, T0 + timedelta(minutes=10), relationship="allocated",
               allocated_to_actor="true", part="concern"),
        _board("ACTION", 2, adults, T0 + timedelta(minutes=12), action="acknowledge", **{"from": "ALLOCATED",
                                                                                           "to": "ACKNOWLEDGED"}),
        _board("ACTION", 3, adults, T0 + timedelta(hours=2), user="system", action="sla_breach", outcome="breached"),
        _board("CONSULTATION", 4, adults, T0 + timedelta(minutes=20), user="u-2", purpose="other",
               relationship="self-claimed", part="concern"),
        _board("CONSULTATION", 5, adults, datetime(2026, 5, 4, 22, 30, tzinfo=UTC), relationship="allocated",
               allocated_to_actor="true", part="concern"),  # 23:30 UK time
        _board("ACTION", 6, adults, T0 + timedelta(days=1), action="close", **{"from": "VISITED", "to": "CLOSED"}),
        _board("CONSULTATION", 7, adults, T0 + timedelta(days=1, hours=1), relationship="team", part="summary"),
    ]
    entries += board
    parts.store.append(entries, T0 + timedelta(days=2))
    parts.checkpointer.checkpoint()
    return Seeded(parts, pseudo, settings, subject, other, event, adults["case_id"], override["entry_id"],
                  board[3]["entry_id"])


def _spoof_entry() -> dict[str, Any]:
    from confluent_kafka import Message

    from eahub.core import avro_codec, schemas
    from eahub.router.inbound import Rejected
    from eahub.router.refusal_audit import refused_inbound_entry

    msg = Message(topic="eahub.inbound.nwas", partition=0, offset=7, value=b"")
    why = Rejected("SOURCE_MISMATCH", "source_agency does not match the publishing agency of topic eahub.inbound.nwas",
                   {"event_id": "5c3a0000-0000-4000-8000-00000000a001", "claimed_source_agency": "lancashire-police"})
    return avro_codec.decode(refused_inbound_entry(msg, why, T0).value, expected=schemas.AUDIT_ENTRY)[1]
