"""Properties over generated events: no recipient's fields_shared leaves its ISA allow-list (plus the
envelope), no special-category field reaches a recipient without an Art 9 condition, the referrer
never leaves the source, the router's projection carries nothing outside the allow-list, and OPA's own
evaluator decides every generated event exactly as regorus does."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eahub.core import risk_factors, schemas
from eahub.core.paths import POLICIES_DIR
from eahub.policy.bundle import PolicyBundle
from eahub.policy.model import Override, PolicyRequest
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.regorus_engine import RegorusEngine
from eahub.router.projection import project

pytestmark = pytest.mark.unit

BUNDLE = PolicyBundle.load(POLICIES_DIR)
ENGINE = RegorusEngine(BUNDLE)
OPA = OpaEmbeddedEngine(BUNDLE)  # OPA 1.20's own evaluator: every decision must equal regorus's
HUB = BUNDLE.data["hub"]
AGENCIES = sorted(HUB["agencies"])
KINDS = schemas.pii_classification()
LEAVES = HUB["schema"]["leaves"]
ENVELOPE = set(HUB["schema"]["envelope"])
ISAS = {(i["id"], i["version"]): i for i in HUB["isas"]}
SPECIAL_KINDS = set(HUB["rules"]["special_category_recipient_kinds"])
VOCABULARY = risk_factors.vocabulary()


def _leaves_under(paths: list[str]) -> set[str]:
    return {leaf for leaf in LEAVES for p in paths if leaf == p or leaf.startswith(p + ".")}


text = st.one_of(st.none(), st.text(min_size=1, max_size=12))
events = st.fixed_dictionaries(
    {
        "event_id": st.uuids().map(str),
        "occurred_at": st.just(datetime(2026, 3, 1, 12, tzinfo=UTC)),
        "reported_at": st.just(datetime(2026, 3, 1, 12, 5, tzinfo=UTC)),
        "source_agency": st.sampled_from(AGENCIES),
        "source_reference": text,
        "category": st.sampled_from(schemas.enum_symbols("Category")),
        "grade": st.sampled_from(schemas.enum_symbols("Grade")),
        "security_marking": st.sampled_from(schemas.enum_symbols("SecurityMarking")),
        "district": st.sampled_from(["Preston", "Burnley", "Wyre"]),
        "subject": st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "name": text,
                    "date_of_birth": st.one_of(st.none(), st.dates(date(2000, 1, 1), date(2026, 3, 1))),
                    "nhs_number": text,
                    "address": text,
                }
            ),
        ),
        "narrative": text,
        "health_details": text,
        "risk_factors": st.lists(st.sampled_from(sorted(VOCABULARY)), max_size=3),
        "linked_people": st.lists(
            st.fixed_dictionaries(
                {
                    "role": st.sampled_from(
                        schemas.enum_symbols("LinkedRole")
                    ),
                    "name": text,
                    "date_of_birth": st.one_of(st.none(), st.dates(date(1950, 1, 1), date(2026, 3, 1))),
                }
            ),
            max_size=2,
        ),
        "referrer": st.one_of(
            st.none(), st.fixed_dictionaries({"name": text, "contact": text, "relationship": text})
        ),
        "consent": st.fixed_dictionaries(
            {
                "status": st.sampled_from(schemas.enum_symbols("ConsentStatus")),
                "recorded_by": text,
            }
        ),
        "restricted_to": st.one_of(st.none(), st.lists(st.sampled_from(AGENCIES), max_size=3)),
    }
)
overrides = st.one_of(
    st.none(),
    st.builds(
        Override,
        recipient=st.sampled_from(AGENCIES),
        role=st.sampled_from(["police-duty-inspector", "caldicott-guardian", "constable"]),
        actor=st.just("ACT-1"),
        justification=st.sampled_from(["", "risk to life"]),
    ),
)
days = st.dates(min_value=date(2023, 1, 1), max_value=date(2028, 12, 31))


def _non_empty_paths(record: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for key, value in record.items():
        path = prefix + key
        if isinstance(value, dict) and path + "." in {p[: len(path) + 1] for p in LEAVES}:
            out |= _non_empty_paths(value, path + ".")
        elif path == "risk_factors":  # coded elements: each code counts as its kind's path
            out |= {VOCABULARY[c].path for c in value}
        elif value not in (None, [], ""):
            out.add(path)
    return out


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=events, today=days, override=overrides)
def test_nothing_leaves_the_allow_list_or_its_kind(
    event: dict[str, Any], today: date, override: Override | None
) -> None:
    request = PolicyRequest(event=event, today=today, override=override)
    decision = ENGINE.decide([request])[0]
    assert OPA.decide([request])[0] == decision, "OPA and regorus disagree"
    for r in decision.shares:
        kind = HUB["agencies"][r.agency]["kind"]
        shared = set(r.fields_shared)
        if r.override:
            allowed = _leaves_under(HUB["rules"]["break_glass"]["fields"]) | ENVELOPE
            art9 = None
        else:
            isa = ISAS[(r.isa_id, r.isa_version)]
            allowed = _leaves_under(isa["recipients"][r.agency]["fields"]) | ENVELOPE
            art9 = isa["art9_conditions"].get(kind)
        assert shared <= allowed, f"{r.agency}: outside its allow-list: {shared - allowed}"
        assert shared >= ENVELOPE
        assert not {f for f in shared if KINDS[f] == "protected-identity"}
        special = {f for f in shared if KINDS[f] == "special-category"}
        if special:
            assert kind in SPECIAL_KINDS and art9, f"{r.agency} got {special} without an Art 9 condition"
            assert art9 in (r.lawful_basis or "")
        assert shared.isdisjoint(r.fields_withheld) and shared | set(r.fields_withheld) == set(LEAVES)
        projected = project(event, set(r.fields_shared))
        leaked = _non_empty_paths(projected) - shared
        assert not leaked, f"{r.agency}: projection carries {leaked}"
    for r in decision.refusals:
        assert r.fields_shared == () and r.reasons
