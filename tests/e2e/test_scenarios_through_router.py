"""The scenario table (tests/scenarios/cases.py) through the real router on the embedded broker: each event
published to its agency's inbound topic, decided by the real Rego policy, projected and routed. The board
topics must hold exactly the expected recipients with exactly the expected fields withheld, and the audit topic a
disclosure or refusal for every candidate."""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator

import pytest

from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.router.bootstrap import build_router
from tests.e2e.board_reading import assert_projection, routed_cases
from tests.helpers import read_all
from tests.scenarios.cases import CASES
from tests.support.opa_rest_shim import OpaRestShim

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


@pytest.fixture(scope="module", params=["embedded-regorus", "embedded-opa", "opa-adapter"])
def routed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[HubSettings, dict]]:
    """The table routed once with the embedded regorus engine, once with OPA's own evaluator embedded
    (EAHUB_POLICY_ENGINE=opa-embedded), and once through the OPA engine adapter (EAHUB_OPA_URL) talking to
    the OPA REST stand-in (no OPA server can run here)."""
    tmp = tmp_path_factory.mktemp("scenarios")
    with contextlib.ExitStack() as stack:
        opa_url = stack.enter_context(OpaRestShim().serving()) if request.param == "opa-adapter" else None
        broker = stack.enter_context(EmbeddedBroker(free_port(), log_path=tmp / "broker.log"))
        engine = "opa-embedded" if request.param == "embedded-opa" else "regorus"
        settings = HubSettings(data_dir=tmp / "data", broker_port=broker.port, opa_url=opa_url,
                               policy_engine=engine)
        initialise(settings)  # as `eahub init`: the router's event id memory lives in the hub database
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
        publisher = KafkaPublisher(producer_config(settings))
        publisher.publish([OutboundMessage(topics.inbound(c.event["source_agency"]),
                                           pseudo.subject_ref(c.event).encode(),
                                           avro_codec.encode(schemas.CONCERN_EVENT, c.event)) for c in CASES])
        publisher.close()
        stop = threading.Event()
        done = threading.Event()

        def run() -> None:
            router = build_router(settings, group_id="scenario-router")

            def count(_event: object, _decision: object) -> None:
                if router.stats.events >= len(CASES):
                    done.set()

            router.on_decision = count
            router.run(stop)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        assert done.wait(60), "router did not decide every scenario within 60s"
        stop.set()
        thread.join(15)
        yield settings, routed_cases(settings)


def test_every_scenario_reaches_exactly_the_expected_recipients(routed: tuple[HubSettings, dict]) -> None:
    _, cases = routed
    wrong = {c.name: (sorted(cases.get(c.event["event_id"], {})), sorted(c.expected_shared))
             for c in CASES if set(cases.get(c.event["event_id"], {})) != set(c.expected_shared)}
    assert not wrong, f"recipients differ (got, expected): {wrong}"


def test_every_routed_case_withholds_exactly_the_expected_fields(routed: tuple[HubSettings, dict]) -> None:
    _, cases = routed
    for scenario in CASES:
        for agency, withheld in scenario.expected_shared.items():
            case = cases[scenario.event["event_id"]][agency]
            assert set(case["withheld_fields"]) == withheld, (scenario.name, agency)
            assert_projection(case, scenario.event)
            assert case["due_by"] > case["concern"]["reported_at"]


def test_audit_topic_records_every_decision_disclosure_and_refusal(routed: tuple[HubSettings, dict]) -> None:
    settings, _ = routed
    entries = [e for m in read_all(settings, topics.AUDIT, expect=0, settle_s=0.5)
               for e in entries_of(m.value())]
    kinds = Counter(e["kind"] for e in entries)
    candidates = len(agency_ids(settings.policies_dir)) - 1
    shares = sum(len(c.expected_shared) for c in CASES)
    assert kinds["DECISION"] == len(CASES)
    assert kinds["DISCLOSURE"] == shares
    assert kinds["REFUSAL"] == len(CASES) * candidates - shares
    refusals = [e for e in entries if e["kind"] == "REFUSAL"]
    assert all(e["reasons"] for e in refusals), "every refusal carries its reasons"
    assert not read_all(settings, topics.DEADLETTER, expect=0, settle_s=0.3)
