"""The impact of a draft policy on recorded decisions (pure): replayed from policy facts, compared with the
recorded outcome per recipient; shares gained and lost per ISA and recipient, with reasons before and after."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from eahub.core.paths import POLICIES_DIR
from eahub.policy.bundle import PolicyBundle
from eahub.policy.facts import policy_input
from eahub.policy.impact import RecordedDecision, RecordedOutcome, facts_json, from_ledger, replay
from eahub.policy.model import PolicyRequest
from eahub.policy.regorus_engine import RegorusEngine
from eahub.policy.test_runner import run_tests
from tests.scenarios.cases import CASES

pytestmark = pytest.mark.unit

MH = "isa-lancs-mental-health-crisis"


def recorded(bundle: PolicyBundle) -> list[RecordedDecision]:
    engine = RegorusEngine(bundle)
    out = []
    for case in CASES:
        request = PolicyRequest(event=case.event, today=case.today)
        decision = engine.decide([request])[0]
        outcomes = tuple(RecordedOutcome(r.agency, r.shared, r.isa_id, r.reasons) for r in decision.recipients)
        out.append(RecordedDecision(decision.event_id, json.loads(facts_json(policy_input(request))), outcomes))
    return out


def draft_without_police_in_the_crisis_isa(tmp_path: Path) -> PolicyBundle:
    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "draft"))
    path = root / "data" / "isas.json"
    doc = json.loads(path.read_text())
    next(i for i in doc["isas"] if i["id"] == MH)["recipients"].pop("lancashire-police")
    path.write_text(json.dumps(doc))
    return PolicyBundle.load(root)


def test_the_policy_in_force_changes_nothing() -> None:
    bundle = PolicyBundle.load(POLICIES_DIR)
    result = replay(recorded(bundle), bundle)
    assert result.replayed == len(CASES) and result.changes == []
    assert result.counts() == {"impact_replayed": str(len(CASES)), "impact_shares_gained": "0",
                               "impact_shares_lost": "0", "impact_recipients_changed": ""}


def test_a_draft_that_drops_a_recipient_loses_exactly_its_shares(tmp_path: Path) -> None:
    draft = draft_without_police_in_the_crisis_isa(tmp_path)
    assert [t.name for t in run_tests(draft).tests if not t.passed] == []  # a change the Rego tests let through
    result = replay(recorded(PolicyBundle.load(POLICIES_DIR)), draft)
    lost_for = {c.event_id for c in result.changes}
    expected = {c.event["event_id"] for c in CASES
                if "lancashire-police" in c.expected_shared and c.event["category"] == "MENTAL_HEALTH"}
    assert lost_for == expected and expected
    assert result.gained == 0 and result.lost == len(expected)
    assert list(result.by_isa_and_recipient()) == [(MH, "lancashire-police")]
    report = result.report()
    assert f"{MH} -> lancashire-police: +0 gained, -{len(expected)} lost" in report
    assert "before: consent" in report and "shared under ISA isa-lancs-mental-health-crisis v1.2" in report
    assert "after:  category MENTAL_HEALTH is not covered by any ISA between" in report


def test_recorded_decisions_are_read_from_ledger_documents_latest_per_event() -> None:
    facts = {"event": {"category": "MENTAL_HEALTH"}, "today": "2026-06-01"}
    docs = [
        {"kind": "DECISION", "event_id": "e1", "decision_id": "d1", "details": {"policy_facts": json.dumps(facts)}},
        {"kind": "DISCLOSURE", "event_id": "e1", "decision_id": "d1", "recipient": "nwas", "isa_id": MH,
         "reasons": ["shared"]},
        {"kind": "DECISION", "event_id": "e1", "decision_id": "d2", "details": {"policy_facts": json.dumps(facts)}},
        {"kind": "REFUSAL", "event_id": "e1", "decision_id": "d2", "recipient": "nwas", "isa_id": None,
         "reasons": ["no"]},
        {"kind": "DECISION", "event_id": "e0", "decision_id": "d0", "details": {}},  # before facts were kept
    ]
    [rec] = from_ledger(docs)
    assert rec.event_id == "e1" and rec.facts == facts
    assert rec.outcomes == (RecordedOutcome("nwas", False, None, ("no",)),)
