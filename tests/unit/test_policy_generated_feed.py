"""The policy over 500 generated events (the demo feed, seed 11): OPA's evaluator and regorus agree on every
decision; no child's case reaches adult social care without an adult in the household; no health risk code
reaches the police; every child-protection concern from another agency reaches the police."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eahub.core import risk_factors
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.ingest.generator import generate
from eahub.ingest.validation import validate_event
from eahub.policy.age import linked_bands, subject_band
from eahub.policy.bundle import PolicyBundle
from eahub.policy.model import PolicyRequest
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.regorus_engine import RegorusEngine

pytestmark = pytest.mark.unit

ADULTS, POLICE = "lancashire-cc-adults", "lancashire-police"


def test_five_hundred_generated_events() -> None:
    agencies = agency_ids(POLICIES_DIR)
    events = [validate_event(e, agencies, datetime(2027, 1, 1, tzinfo=UTC))
              for e in generate(500, seed=11, start=datetime(2026, 5, 1, tzinfo=UTC))]
    bundle = PolicyBundle.load(POLICIES_DIR)
    requests = [PolicyRequest(event=e, today=e["occurred_at"].date()) for e in events]
    decisions = RegorusEngine(bundle).decide(requests)
    assert OpaEmbeddedEngine(bundle).decide(requests) == decisions

    children = [(e, d) for e, d in zip(events, decisions, strict=True)
                if subject_band(e) == "child" and e["source_agency"] != ADULTS]
    missing_children = [e for e, _ in children if e["category"] == "MISSING_PERSON"]
    assert len(missing_children) >= 30  # the feed has them: the rule is exercised
    for e, d in children:
        linked_adult = any(p["age_band"] != "child" and p["role"] in ("ADULT_IN_HOUSEHOLD", "CARER")
                           for p in linked_bands(e))
        assert not d.for_agency(ADULTS).shared or linked_adult, e["event_id"]
        if e["source_agency"] != "lancashire-cc-childrens" and e["restricted_to"] is None:
            assert d.for_agency("lancashire-cc-childrens").shared, e["event_id"]  # whatever the category

    health = {c for c, f in risk_factors.vocabulary().items() if f.kind == "health"}
    assert any(set(e["risk_factors"]) & health for e in events)
    for e, d in zip(events, decisions, strict=True):
        if e["source_agency"] != POLICE:
            assert "risk_factors.health" not in d.for_agency(POLICE).fields_shared
    protection = [d for e, d in zip(events, decisions, strict=True) if e["source_agency"] != POLICE
                  and e["category"] in ("CHILD_CONCERN", "CHILD_SEXUAL_EXPLOITATION") and e["restricted_to"] is None]
    assert protection and all(d.for_agency(POLICE).shared for d in protection)
