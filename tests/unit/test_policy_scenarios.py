"""The scenario table (tests/scenarios/cases.py) against both embedded engines (regorus and OPA's own
evaluator), one decision per case, and the two engines' decisions compared field by field."""

from __future__ import annotations

import pytest

from eahub.core import schemas
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.policy.bundle import PolicyBundle
from eahub.policy.engine import PolicyEngine
from eahub.policy.model import PolicyRequest
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.regorus_engine import RegorusEngine
from tests.scenarios.cases import CASES, Scenario

pytestmark = pytest.mark.unit


BUNDLE = PolicyBundle.load(POLICIES_DIR)
ENGINES: dict[str, PolicyEngine] = {"regorus": RegorusEngine(BUNDLE), "opa-embedded": OpaEmbeddedEngine(BUNDLE)}


@pytest.fixture(params=sorted(ENGINES))
def engine(request: pytest.FixtureRequest) -> PolicyEngine:
    return ENGINES[request.param]


def test_the_table_is_broad() -> None:
    assert len(CASES) >= 40
    assert len({c.name for c in CASES}) == len(CASES)
    assert {c.event["category"] for c in CASES} == set(schemas.enum_symbols("Category"))
    assert {c.event["source_agency"] for c in CASES} == set(agency_ids(POLICIES_DIR))
    assert {c.event["consent"]["status"] for c in CASES} == {"GIVEN", "REFUSED", "NOT_SOUGHT", "NOT_REQUIRED"}
    assert {c.event["grade"] for c in CASES} == {"GRADE_2", "GRADE_3"}
    assert {c.event["security_marking"] for c in CASES} == {"OFFICIAL", "OFFICIAL_SENSITIVE"}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_scenario(engine: PolicyEngine, case: Scenario) -> None:
    decision = engine.decide([PolicyRequest(event=case.event, today=case.today)])[0]
    candidates = set(agency_ids(POLICIES_DIR)) - {case.event["source_agency"]}
    assert {r.agency for r in decision.recipients} == candidates
    assert {r.agency: set(r.fields_withheld) for r in decision.shares} == case.expected_shared
    for r in decision.recipients:
        assert r.reasons, f"{r.agency}: a decision without reasons"
        if r.shared:
            assert r.isa_id and r.lawful_basis and r.purpose
        else:
            assert r.fields_shared == ()


def test_the_whole_table_decides_in_one_batch_the_same(engine: PolicyEngine) -> None:
    batch = engine.decide([PolicyRequest(event=c.event, today=c.today) for c in CASES])
    one_by_one = [engine.decide([PolicyRequest(event=c.event, today=c.today)])[0] for c in CASES]
    assert batch == one_by_one


def test_opa_and_regorus_decide_the_whole_table_alike() -> None:
    requests = [PolicyRequest(event=c.event, today=c.today) for c in CASES]
    for case, opa, regorus in zip(
        CASES, ENGINES["opa-embedded"].decide(requests), ENGINES["regorus"].decide(requests), strict=True
    ):
        assert opa == regorus, case.name
