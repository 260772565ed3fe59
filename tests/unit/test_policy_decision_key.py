"""The decision cache's key cannot drift from the policy: it is made of the input paths the Rego reads (a
policy that reads a new field puts that field in the key), and perturbing every fact the key drops (grade,
risk factors and linked people nothing names, another day with the same ISAs in force) over the scenario
table and generated events leaves both the key and the engine's decision exactly as they were."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eahub.core import schemas
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.ingest.generator import generate
from eahub.ingest.validation import validate_event
from eahub.policy.bundle import PolicyBundle
from eahub.policy.decision_key import WHOLE, DecisionKey, input_paths
from eahub.policy.model import Decision, Override, PolicyRequest
from eahub.policy.regorus_engine import RegorusEngine
from tests.scenarios.cases import CASES, POLICE, event

pytestmark = pytest.mark.unit

BUNDLE = PolicyBundle.load(POLICIES_DIR)
ENGINE = RegorusEngine(BUNDLE)
KEY = DecisionKey.of(BUNDLE)
HUB = BUNDLE.data["hub"]
UNNAMED_CODES = sorted(KEY.vocabulary - KEY.named)
UNNAMED_ROLES = sorted(set(schemas.enum_symbols("LinkedRole")) - KEY.named)


def _requests() -> list[PolicyRequest]:
    agencies = agency_ids(POLICIES_DIR)
    generated = [
        validate_event(e, agencies, datetime(2027, 1, 1, tzinfo=UTC))
        for e in generate(150, seed=23, start=datetime(2026, 5, 1, tzinfo=UTC))
    ]
    overrides = [None, Override(POLICE, "police-duty-inspector", "insp-1", "risk to life"),
                 Override(POLICE, "constable", "pc-2", "")]
    return [PolicyRequest(event=c.event, today=c.today) for c in CASES] + [
        PolicyRequest(event=e, today=e["occurred_at"].date(), override=overrides[i % 3])
        for i, e in enumerate(generated)
    ]


def _in_force(day: date) -> list[bool]:
    iso = day.isoformat()
    return [i["valid_from"] <= iso <= i["valid_to"] for i in HUB["isas"]]


def _same_window_day(request: PolicyRequest, rnd: random.Random) -> date:
    """Another day on which the same ISAs are in force."""
    days = [request.today + timedelta(days=d) for d in range(-900, 900, 7) if d]
    return rnd.choice([d for d in days if _in_force(d) == _in_force(request.today)])


def _adult_born(e: dict[str, Any], rnd: random.Random) -> date | None:
    return None if rnd.random() < 0.3 else e["occurred_at"].date() - timedelta(days=365 * rnd.randint(19, 80))


def _perturbed(request: PolicyRequest, rnd: random.Random, *, day: bool = True) -> PolicyRequest:
    e = request.event
    extra_people = [
        {"role": rnd.choice(UNNAMED_ROLES), "name": "Made-up Person", "date_of_birth": _adult_born(e, rnd)}
        for _ in range(rnd.randint(1, 3))
    ]
    event_ = {
        **e,
        "grade": rnd.choice(schemas.enum_symbols("Grade")),
        "risk_factors": [*(e.get("risk_factors") or []), *rnd.sample(UNNAMED_CODES, rnd.randint(1, 4))],
        "linked_people": [*(e.get("linked_people") or []), *extra_people],
    }
    return replace(request, event=event_, today=_same_window_day(request, rnd) if day else request.today)


def test_the_key_holds_exactly_the_input_paths_the_policy_reads() -> None:
    assert KEY.paths == {
        "event": {
            "source_agency": WHOLE,
            "category": WHOLE,
            "subject_age_band": WHOLE,
            "security_marking": WHOLE,
            "consent": {"status": WHOLE},
            "risk_factors": WHOLE,
            "restricted_to": WHOLE,
            "linked_people": WHOLE,
        },
        "today": WHOLE,
        "override": WHOLE,
    }  # no `grade`: no rule reads it
    assert UNNAMED_CODES and UNNAMED_ROLES  # the perturbations below have something to add


def test_perturbing_every_dropped_fact_changes_neither_key_nor_decision() -> None:
    rnd = random.Random(11)
    requests = _requests()
    perturbed = [_perturbed(r, rnd, day=False) for r in requests]
    for r, p in zip(requests, perturbed, strict=True):
        assert KEY.key(BUNDLE.revision, p) == KEY.key(BUNDLE.revision, r), r.event["event_id"]
    assert ENGINE.decide(perturbed) == ENGINE.decide(requests)


def test_another_day_with_the_same_isas_in_force_decides_alike_whenever_the_key_is_the_same() -> None:
    rnd = random.Random(3)
    requests = _requests()
    perturbed = [_perturbed(r, rnd) for r in requests]
    same_key = [
        i for i, (r, p) in enumerate(zip(requests, perturbed, strict=True))
        if KEY.key(BUNDLE.revision, p) == KEY.key(BUNDLE.revision, r)
    ]
    assert len(same_key) >= 0.9 * len(requests)  # the day itself is kept only where a refusal may name it
    before, after = ENGINE.decide(requests), ENGINE.decide(perturbed)
    for i in same_key:
        assert after[i].recipients == before[i].recipients, requests[i].event["event_id"]


def test_requests_with_one_key_get_one_decision() -> None:
    """Soundness over a mixed population: every request sharing a key is decided alike."""
    rnd = random.Random(5)
    requests = _requests()
    population = requests + [_perturbed(r, rnd) for r in requests]
    by_key: dict[str, Decision] = {}
    shared_keys = 0
    for r, d in zip(population, ENGINE.decide(population), strict=True):
        k = KEY.key(BUNDLE.revision, r)
        if k in by_key:
            shared_keys += 1
            assert d.recipients == by_key[k].recipients, r.event["event_id"]
        by_key.setdefault(k, d)
    assert shared_keys >= len(requests)


def test_facts_that_decide_stay_in_the_key() -> None:
    base = PolicyRequest(event=event(1, POLICE, "MENTAL_HEALTH", risk=("weapons",)), today=date(2026, 6, 1))
    variants = [
        replace(base, event={**base.event, "category": "DOMESTIC_ABUSE"}),
        replace(base, event={**base.event, "risk_factors": []}),  # a named code (a risk condition)
        replace(base, event={**base.event, "risk_factors": ["weapons", "made-up-code"]}),  # outside the vocabulary
        replace(base, event={**base.event, "consent": {"status": "REFUSED", "recorded_by": "x"}}),
        replace(base, event={**base.event, "restricted_to": ["nwas"]}),
        replace(base, today=date(2031, 1, 1)),  # no ISA in force
        replace(base, override=Override(POLICE, "caldicott-guardian", "a", "why")),
    ]
    keys = {KEY.key(BUNDLE.revision, r) for r in [base, *variants]}
    assert len(keys) == len(variants) + 1


def _bundle_with(tmp_path: Path, rego: str) -> PolicyBundle:
    import shutil

    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    path = root / "eahub" / "sharing" / "decision.rego"
    path.write_text(path.read_text() + "\n" + rego + "\n")
    return PolicyBundle.load(root)


def test_a_policy_reading_a_new_input_field_puts_it_in_the_key(tmp_path: Path) -> None:
    bundle = _bundle_with(tmp_path, '_urgent if _event.grade == "GRADE_1"')
    key = DecisionKey.of(bundle)
    assert key.paths["event"]["grade"] == WHOLE
    r = PolicyRequest(event=event(1, POLICE, "MENTAL_HEALTH"), today=date(2026, 6, 1))
    other = replace(r, event={**r.event, "grade": "GRADE_1"})
    assert key.key(bundle.revision, r) != key.key(bundle.revision, other)


def test_reading_a_whole_part_of_the_input_keeps_it_whole() -> None:
    assert input_paths(["x := input.event.grade", "y := input.today"]) == {
        "event": {"grade": WHOLE},
        "today": WHOLE,
    }
    assert input_paths(["_e := input.event", "n := json.marshal(_e)"]) == {"event": WHOLE}
    assert input_paths(["_e := input.event", "_c := _e.category", "n := _c"]) == {"event": {"category": WHOLE}}
    assert input_paths(['v := input.event[k] if k := "grade"']) == {"event": WHOLE}
    assert input_paths(['decision := {"all": input}']) == {WHOLE: WHOLE}
    assert input_paths(['# input.event.grade in a comment\ns := "input.today in a string"']) == {}
    assert input_paths(["b := [d | some r in input.requests; d := decision with input as r]"]) == {}
