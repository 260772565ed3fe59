from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eahub.core import schemas
from eahub.core.paths import POLICIES_DIR
from eahub.core.registry import agency_ids
from eahub.ingest import nhs_number
from eahub.ingest.generator import FIRST_NAMES, SURNAMES, generate, reported_at
from eahub.ingest.validation import validate_event

pytestmark = pytest.mark.unit
START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
N = 20_000


@pytest.fixture(scope="module")
def events() -> list[dict[str, Any]]:
    return list(generate(N, seed=11, start=START))


def share(events: list[dict[str, Any]], pred: Any) -> float:
    return sum(1 for e in events if pred(e)) / len(events)


def test_every_event_is_valid(events: list[dict[str, Any]]) -> None:
    agencies = agency_ids(POLICIES_DIR)
    end = reported_at(events[-1])
    records = [validate_event(e, agencies, end) for e in events]
    assert len({r["event_id"] for r in records}) == N


def test_volume_about_134_a_day(events: list[dict[str, Any]]) -> None:
    days = (reported_at(events[-1]) - START) / timedelta(days=1)
    assert 125 <= N / days <= 143
    assert [reported_at(e) for e in events] == sorted(reported_at(e) for e in events)


def test_preston_about_15_percent(events: list[dict[str, Any]]) -> None:
    assert 0.12 <= share(events, lambda e: e["district"] == "Preston") <= 0.18
    assert len({e["district"] for e in events}) == 14


def test_evening_peak_and_busy_fridays_and_saturdays(events: list[dict[str, Any]]) -> None:
    evening = share(events, lambda e: reported_at(e).hour >= 15)
    assert evening > 0.5  # 9 of 24 hours (37.5%) carry more than half the events
    fri_sat = share(events, lambda e: reported_at(e).weekday() in (4, 5))
    assert fri_sat > 2 / 7 + 0.03
    per_day = Counter(reported_at(e).weekday() for e in events)
    assert min(per_day[4], per_day[5]) > max(per_day[d] for d in (0, 1, 2, 3, 6))


def test_all_categories_grades_consent_and_markings(events: list[dict[str, Any]]) -> None:
    raw = {f["name"]: f["type"] for f in schemas.load(schemas.CONCERN_EVENT).raw["fields"]}
    assert {e["category"] for e in events} == set(raw["category"]["symbols"])
    assert {e["grade"] for e in events} == {"GRADE_2", "GRADE_3"}
    assert {e["security_marking"] for e in events} == {"OFFICIAL", "OFFICIAL_SENSITIVE"}
    assert {e["consent"]["status"] for e in events} == {"GIVEN", "REFUSED", "NOT_SOUGHT", "NOT_REQUIRED"}


def test_publishers_people_and_referrers(events: list[dict[str, Any]]) -> None:
    police = share(events, lambda e: e["source_agency"] == "lancashire-police")
    assert 0.7 <= police <= 0.9
    assert {e["source_agency"] for e in events} == set(agency_ids(POLICIES_DIR))
    nhs = [e["subject"]["nhs_number"] for e in events if "nhs_number" in e["subject"]]
    assert 0.4 <= len(nhs) / N <= 0.8
    assert all(nhs_number.problem(n) is None and n.startswith("999") for n in nhs)
    child = [e for e in events if e["category"] == "CHILD_CONCERN"]
    assert all(any(p["role"] == "CHILD_IN_HOUSEHOLD" for p in e["linked_people"]) for e in child)
    assert 0.15 <= share(events, lambda e: "referrer" in e) <= 0.35
    names = {e["subject"].get("name") for e in events} - {None}
    assert all(n.split(" ")[0] in FIRST_NAMES and n.split(" ")[1] in SURNAMES for n in names)


def test_deterministic_per_seed() -> None:
    first = list(generate(200, seed=3, start=START))
    assert first == list(generate(200, seed=3, start=START))
    assert first != list(generate(200, seed=4, start=START))


def test_days_spreads_the_count_or_bounds_the_stream() -> None:
    spread = list(generate(1000, seed=1, start=START, days=1))
    assert len(spread) == 1000
    assert reported_at(spread[-1]) - START < timedelta(days=1.2)
    bounded = list(generate(None, seed=1, start=START, days=2))
    assert 200 <= len(bounded) <= 340
    assert all(reported_at(e) < START + timedelta(days=2) for e in bounded)
    assert list(itertools.islice(generate(None, seed=1, start=START, days=2), 5)) == bounded[:5]


def test_the_generator_and_the_isas_use_only_codes_of_the_vocabulary(events: list[dict[str, Any]]) -> None:
    from eahub.core import risk_factors
    from eahub.policy.bundle import PolicyBundle

    vocabulary = risk_factors.vocabulary()
    used = Counter(code for e in events for code in e.get("risk_factors") or [])
    assert used and set(used) <= set(vocabulary)
    assert {vocabulary[c].kind for c in used} == {"general", "health"}
    for isa in PolicyBundle.load(POLICIES_DIR).data["hub"]["isas"]:
        assert set(isa["conditions"]["consent_override"]["serious_harm"]["risk_factors"]) <= set(vocabulary)
