"""One conformance table (input, data, expected decision) run against every policy engine available:
always the embedded regorus engine and OPA's own evaluator embedded (opa-golib-python-bindings, OPA 1.20);
the OPA engine adapter against the OPA REST stand-in
(tests/support/opa_rest_shim.py: the adapter's protocol, evaluated by regorus, because no OPA server can
run here); and a real OPA server (openpolicyagent/opa via testcontainers) when a Docker engine answers,
skipped with that reason where none does. Same .rego files, same data, same decisions."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from eahub.core.broker import free_port
from eahub.core.paths import POLICIES_DIR
from eahub.policy.bundle import PolicyBundle
from eahub.policy.engine import PolicyEngine
from eahub.policy.model import Override, PolicyRequest, PolicyUnavailable
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.opa_engine import OpaEngine
from eahub.policy.regorus_engine import RegorusEngine
from tests.scenarios.cases import ADULTS, CHILDRENS, HEALTH, NWAS, POLICE, event
from tests.support.opa_rest_shim import OpaRestShim

pytestmark = pytest.mark.contract

OPA_IMAGE = "openpolicyagent/opa:1.4.2"
TODAY = date(2026, 6, 1)


@dataclass(frozen=True)
class Expect:
    shared: bool
    isa: str | None = None
    reason: str | None = None  # one reason, exactly
    has: frozenset[str] = frozenset()  # fields that must be shared
    lacks: frozenset[str] = frozenset()  # fields that must be withheld
    override: bool = False


@dataclass(frozen=True)
class Row:
    name: str
    request: PolicyRequest
    expected: dict[str, Expect]
    data_change: Callable[[dict[str, Any]], None] | None = None  # applied to isas.json


def _expire_mh(doc: dict[str, Any]) -> None:
    doc["isas"][2]["valid_to"] = "2026-05-31"


MH = "isa-lancs-mental-health-crisis"
AS = "isa-lancs-adult-safeguarding"
CS = "isa-lancs-child-safeguarding"

TABLE = [
    Row(
        "mental health shared by ISA, special category by kind",
        PolicyRequest(event(1, POLICE, "MENTAL_HEALTH"), TODAY),
        {
            HEALTH: Expect(True, MH, has=frozenset({"health_details", "narrative"})),
            NWAS: Expect(True, MH, lacks=frozenset({"health_details", "narrative"})),
            ADULTS: Expect(True, MH, has=frozenset({"health_details"}), lacks=frozenset({"narrative"})),
            CHILDRENS: Expect(
                False,
                None,
                "category MENTAL_HEALTH is not covered by any ISA between lancashire-police "
                "and lancashire-cc-childrens (considered: isa-lancs-child-safeguarding)",
            ),
        },
    ),
    Row(
        "children's concern to children's services, police and health, not the ambulance service",
        PolicyRequest(event(2, NWAS, "CHILD_CONCERN", age=9, risk=("neglect", "parental-substance-misuse")), TODAY),
        {
            CHILDRENS: Expect(True, CS, has=frozenset({"linked_people"}), lacks=frozenset({"referrer.name"})),
            POLICE: Expect(
                True, CS, has=frozenset({"risk_factors.general"}), lacks=frozenset({"risk_factors.health"})
            ),
            HEALTH: Expect(True, CS, has=frozenset({"risk_factors.health", "health_details"})),
            ADULTS: Expect(
                False,
                None,
                "children's concerns (CHILD_CONCERN) go only to childrens-social-care, police, health; "
                "lancashire-cc-adults is adult-social-care",
            ),
        },
    ),
    Row(
        "a missing 15-year-old goes to children's services, not adult social care",
        PolicyRequest(event(10, POLICE, "MISSING_PERSON", age=15), TODAY),
        {
            CHILDRENS: Expect(True, CS),
            HEALTH: Expect(True, CS),
            ADULTS: Expect(
                False,
                None,
                "the subject is a child (under 18 when the event occurred): no ISA in force gives "
                f"lancashire-cc-adults this case for that age (considered: {AS} v2.1)",
            ),
            NWAS: Expect(False, None),
        },
    ),
    Row(
        "health risk-factor codes withheld from recipients without an Art 9 condition",
        PolicyRequest(event(11, HEALTH, "MENTAL_HEALTH", risk=("self-harm", "weapons")), TODAY),
        {
            NWAS: Expect(True, MH, has=frozenset({"risk_factors.general"}), lacks=frozenset({"risk_factors.health"})),
            POLICE: Expect(True, MH, lacks=frozenset({"risk_factors.health"})),
            ADULTS: Expect(True, MH, has=frozenset({"risk_factors.health"})),
        },
    ),
    Row(
        "a risk-factor code outside the vocabulary is shared with nobody",
        PolicyRequest(event(12, POLICE, "MENTAL_HEALTH", risk=("suicidal-ideation",)), TODAY),
        {
            HEALTH: Expect(False, MH, "risk factor codes not in the controlled vocabulary: suicidal-ideation"),
            NWAS: Expect(False, MH, "risk factor codes not in the controlled vocabulary: suicidal-ideation"),
        },
    ),
    Row(
        "official-sensitive only to the cleared",
        PolicyRequest(event(3, POLICE, "VULNERABLE_ADULT", marking="OFFICIAL_SENSITIVE"), TODAY),
        {
            HEALTH: Expect(True, AS),
            ADULTS: Expect(
                False,
                AS,
                "the event is marked OFFICIAL-SENSITIVE and lancashire-cc-adults is not cleared for it",
            ),
            NWAS: Expect(False, AS, "the event is marked OFFICIAL-SENSITIVE and nwas is not cleared for it"),
        },
    ),
    Row(
        "refused consent, no risk condition",
        PolicyRequest(event(4, POLICE, "VULNERABLE_ADULT", consent="REFUSED"), TODAY),
        {
            ADULTS: Expect(
                False,
                AS,
                f"consent refused by the subject, and no risk condition of ISA {AS} v2.1 applies "
                "(child at risk, serious harm)",
            )
        },
    ),
    Row(
        "refused consent, serious harm",
        PolicyRequest(event(5, POLICE, "VULNERABLE_ADULT", consent="REFUSED", risk=("weapons",)), TODAY),
        {ADULTS: Expect(True, AS)},
    ),
    Row(
        "originator control",
        PolicyRequest(event(6, POLICE, "DOMESTIC_ABUSE", restricted=[CHILDRENS]), TODAY),
        {
            CHILDRENS: Expect(True, CS),
            HEALTH: Expect(
                False,
                AS,
                "originator control: lancashire-police restricted this event to lancashire-cc-childrens",
            ),
        },
    ),
    Row(
        "ISA expired (data variant)",
        PolicyRequest(event(7, POLICE, "MENTAL_HEALTH"), TODAY),
        {
            HEALTH: Expect(
                False, None, f"ISA {MH} v1.2 is not in force on 2026-06-01 (valid 2025-01-01 to 2026-05-31)"
            )
        },
        data_change=_expire_mh,
    ),
    Row(
        "break-glass by a designated role",
        PolicyRequest(
            event(8, POLICE, "MENTAL_HEALTH"),
            TODAY,
            Override(CHILDRENS, "mash-team-manager", "MTM-3", "child seen at the address"),
        ),
        {
            CHILDRENS: Expect(
                True,
                None,
                has=frozenset({"subject.name"}),
                lacks=frozenset({"narrative", "referrer.name"}),
                override=True,
            )
        },
    ),
    Row(
        "break-glass by anyone else",
        PolicyRequest(
            event(9, POLICE, "MENTAL_HEALTH"), TODAY, Override(CHILDRENS, "constable", "PC-9", "because")
        ),
        {
            CHILDRENS: Expect(
                False,
                None,
                "break-glass override refused: role constable is not a designated break-glass role",
            )
        },
    ),
]


def _bundle(tmp_path: Path, row: Row) -> PolicyBundle:
    if row.data_change is None:
        return PolicyBundle.load(POLICIES_DIR)
    root = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    path = root / "data" / "isas.json"
    doc = json.loads(path.read_text())
    row.data_change(doc)
    path.write_text(json.dumps(doc))
    return PolicyBundle.load(root)


@pytest.fixture(scope="module")
def opa_url() -> Iterator[str]:
    try:
        import docker

        docker.from_env().ping()
    except Exception as exc:
        pytest.skip(
            f"no Docker engine answers ({type(exc).__name__}); the OPA server conformance run needs one"
        )
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import HttpWaitStrategy

    container = (
        DockerContainer(OPA_IMAGE)
        .with_command("run --server --addr 0.0.0.0:8181")
        .with_exposed_ports(8181)
        .waiting_for(HttpWaitStrategy(8181, "/health"))
    )
    with container:
        yield f"http://{container.get_container_host_ip()}:{container.get_exposed_port(8181)}"


@pytest.fixture(scope="module")
def opa_shim_url() -> Iterator[str]:
    """The OPA REST API stand-in (tests/support/opa_rest_shim.py): the adapter's protocol, evaluated by regorus."""
    with OpaRestShim().serving() as url:
        yield url


ENGINES: dict[str, Callable[[pytest.FixtureRequest, PolicyBundle], PolicyEngine]] = {
    "regorus": lambda request, bundle: RegorusEngine(bundle),
    "opa-embedded": lambda request, bundle: OpaEmbeddedEngine(bundle),
    "opa": lambda request, bundle: OpaEngine(request.getfixturevalue("opa_url"), bundle, timeout_s=5),
    "opa-adapter-over-rest-shim": lambda request, bundle: OpaEngine(
        request.getfixturevalue("opa_shim_url"), bundle, timeout_s=5),
}


ENGINE_PARAMS = ["regorus", "opa-embedded", "opa-adapter-over-rest-shim", pytest.param("opa", marks=pytest.mark.docker)]


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_conformance(engine_name: str, row: Row, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, row)
    engine = ENGINES[engine_name](request, bundle)
    decision = engine.decide([row.request])[0]
    assert decision.policy_revision == bundle.revision == engine.revision
    assert decision.event_id == row.request.event["event_id"]
    for agency, want in row.expected.items():
        got = decision.for_agency(agency)
        assert got.shared is want.shared, got.reasons
        assert got.override is want.override
        if want.isa is not None or not want.override:
            assert got.isa_id == want.isa
        if want.reason is not None:
            assert want.reason in got.reasons
        assert want.has <= set(got.fields_shared)
        assert want.lacks <= set(got.fields_withheld)


@pytest.mark.parametrize("engine_name", ENGINE_PARAMS)
def test_a_batch_is_decided_in_order(engine_name: str, request: pytest.FixtureRequest) -> None:
    bundle = PolicyBundle.load(POLICIES_DIR)
    engine = ENGINES[engine_name](request, bundle)
    rows = [r for r in TABLE if r.data_change is None]
    batch = engine.decide([r.request for r in rows])
    assert [d.event_id for d in batch] == [r.request.event["event_id"] for r in rows]
    assert batch == [engine.decide([r.request])[0] for r in rows]


@pytest.mark.parametrize("row", TABLE, ids=lambda r: r.name)
def test_opa_and_regorus_decide_every_field_alike(row: Row, tmp_path: Path) -> None:
    """OPA's own evaluator (OPA 1.20, embedded) and regorus: the same Decision, field by field."""
    bundle = _bundle(tmp_path, row)
    assert OpaEmbeddedEngine(bundle).decide([row.request]) == RegorusEngine(bundle).decide([row.request])


def test_the_opa_adapter_pushes_its_bundle_again_when_the_server_lost_it() -> None:
    shim = OpaRestShim()
    with shim.serving() as url:
        engine = OpaEngine(url, PolicyBundle.load(POLICIES_DIR), timeout_s=5)
        first = engine.decide([TABLE[0].request])
        shim.restart()  # an OPA restart loses pushed policies and data
        assert shim.policies == {}
        again = engine.decide([TABLE[0].request])
        assert again == first and shim.policies and shim.data["hub_revision"]["revision"] == engine.revision


def test_opa_unreachable_is_policy_unavailable() -> None:
    engine = OpaEngine(f"http://127.0.0.1:{free_port()}", PolicyBundle.load(POLICIES_DIR), timeout_s=0.5)
    with pytest.raises(PolicyUnavailable, match="cannot load the policy bundle into OPA"):
        engine.decide([TABLE[0].request])
