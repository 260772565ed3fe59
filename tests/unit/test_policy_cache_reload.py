"""Decision cache and hot reload over a temporary copy of policies/: a change takes effect without a
restart, a bundle that fails to load or fails its own tests is refused and the old one stays."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from eahub.core.paths import POLICIES_DIR
from eahub.core.settings import HubSettings
from eahub.policy.bootstrap import build_engine
from eahub.policy.bundle import PolicyBundle
from eahub.policy.cache import CachingEngine
from eahub.policy.model import PolicyRequest
from eahub.policy.regorus_engine import RegorusEngine
from eahub.policy.reloading import ReloadingEngine
from tests.scenarios.cases import HEALTH, NWAS, POLICE, event

pytestmark = pytest.mark.unit

TODAY = date(2026, 6, 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def policies(tmp_path: Path) -> Path:
    return Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))


def request(n: int) -> PolicyRequest:
    return PolicyRequest(event=event(n, POLICE, "MENTAL_HEALTH"), today=TODAY)


def drop_nwas_from_mh_isa(root: Path) -> None:
    path = root / "data" / "isas.json"
    doc = json.loads(path.read_text())
    del doc["isas"][2]["recipients"][NWAS]
    path.write_text(json.dumps(doc))


def narrow_nwas_in_mh_isa(root: Path) -> None:
    path = root / "data" / "isas.json"
    doc = json.loads(path.read_text())
    doc["isas"][2]["recipients"][NWAS]["fields"].remove("subject.date_of_birth")
    path.write_text(json.dumps(doc))


def test_cache_hits_on_the_same_facts_and_stamps_each_event(policies: Path) -> None:
    engine = CachingEngine(RegorusEngine(PolicyBundle.load(policies)))
    first, second = engine.decide([request(1), request(3)])  # same policy facts, different people
    assert (engine.hits, engine.misses) == (1, 1)
    assert first.recipients == second.recipients
    assert second.event_id == event(3, POLICE, "MENTAL_HEALTH")["event_id"]
    assert second.decision_id != first.decision_id
    assert second == RegorusEngine(PolicyBundle.load(policies)).decide([request(3)])[0]
    engine.decide([request(5)])
    assert engine.hit_ratio == pytest.approx(2 / 3)


def test_a_changed_policy_takes_effect_without_restart_and_clears_the_cache(policies: Path) -> None:
    clock = Clock()
    reloading = ReloadingEngine(policies, RegorusEngine, interval_s=5, clock=clock)
    engine = CachingEngine(reloading, refresh=reloading.poll)
    old = engine.decide([request(1)])[0]
    assert "subject.date_of_birth" in old.for_agency(NWAS).fields_shared
    narrow_nwas_in_mh_isa(policies)
    clock.now = 4.9
    assert engine.decide([request(1)])[0] == old  # not yet polled
    clock.now = 5.0
    new = engine.decide([request(1)])[0]
    assert reloading.reloads == 1
    assert new.policy_revision == engine.revision != old.policy_revision
    assert "subject.date_of_birth" in new.for_agency(NWAS).fields_withheld
    assert new.for_agency(HEALTH) == old.for_agency(HEALTH)
    assert new.decision_id != old.decision_id


def test_a_bundle_that_fails_to_load_is_refused_and_the_old_stays(policies: Path) -> None:
    reloading = ReloadingEngine(policies, RegorusEngine, interval_s=0)
    before = reloading.revision
    rego = policies / "eahub" / "sharing" / "decision.rego"
    rego.write_text(rego.read_text() + "\nbroken if {\n")
    assert reloading.check_now() is False
    assert (reloading.reloads_refused, reloading.revision) == (1, before)
    assert reloading.last_refusal == "the changed policy bundle failed to load"
    assert reloading.decide([request(1)])[0].policy_revision == before
    assert reloading.reloads_refused == 1  # refused once, not on every poll


def test_a_bundle_that_fails_its_own_tests_is_refused(policies: Path) -> None:
    reloading = ReloadingEngine(policies, RegorusEngine, interval_s=0)
    before = reloading.revision
    drop_nwas_from_mh_isa(policies)  # test_mental_health_goes_to_crisis_partners now fails
    reloading.check_now()
    assert (reloading.reloads_refused, reloading.revision) == (1, before)
    assert reloading.last_refusal == "the changed policy bundle fails its own tests"


def test_build_engine_is_regorus_with_reload_and_cache(policies: Path) -> None:
    engine = build_engine(HubSettings(policies_dir=policies, policy_reload_seconds=60))
    assert isinstance(engine, CachingEngine) and isinstance(engine.inner, ReloadingEngine)
    assert isinstance(engine.inner.current, RegorusEngine)
    assert engine.revision == PolicyBundle.load(policies).revision
    assert engine.decide([request(1)])[0].policy_revision == engine.revision
