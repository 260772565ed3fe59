"""A changed policy takes effect in a running hub without restart; a broken one is refused and the old one
stays in force. Each event is decided wholly under one revision, recorded on its outputs."""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path

import pytest

from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.broker import free_port
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.paths import POLICIES_DIR
from eahub.core.settings import HubSettings
from eahub.hub.hub import start_hub
from tests.helpers import read_all
from tests.scenarios.cases import CASES

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

MH = next(c for c in CASES if c.event["category"] == "MENTAL_HEALTH" and c.expected_shared
          and c.event["source_agency"] == "lancashire-police")


def _publish(settings: HubSettings, event_id: str) -> None:
    event = dict(MH.event, event_id=event_id)
    publisher = KafkaPublisher(producer_config(settings))
    publisher.publish([OutboundMessage(topics.inbound("lancashire-police"), b"k",
                                       avro_codec.encode(schemas.CONCERN_EVENT, event))])
    publisher.close()


def _decision(settings: HubSettings, event_id: str) -> tuple[dict, list[dict]]:
    """The event's DECISION entry and its DISCLOSURE entries, from the audit topic."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        entries = [e for m in read_all(settings, topics.AUDIT, expect=0, settle_s=0.2)
                   for e in entries_of(m.value())]
        mine = [e for e in entries if e["event_id"] == event_id]
        decision = [e for e in mine if e["kind"] == "DECISION"]
        if decision:
            return decision[0], [e for e in mine if e["kind"] == "DISCLOSURE"]
        time.sleep(0.3)
    raise AssertionError(f"no decision for {event_id}")


def test_changed_policy_takes_effect_without_restart(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(POLICIES_DIR, policies)
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port(),
                           policies_dir=policies, policy_reload_seconds=0.2)
    hub = start_hub(settings)
    try:
        before = str(uuid.uuid4())
        _publish(settings, before)
        first, disclosures = _decision(settings, before)
        assert {d["isa_version"] for d in disclosures} == {"1.2"}

        # The partners sign version 1.3 of the mental-health crisis ISA: new shares must cite it.
        isas_file = policies / "data" / "isas.json"
        isas = json.loads(isas_file.read_text())
        for isa in isas["isas"]:
            if isa["id"] == "isa-lancs-mental-health-crisis":
                isa["version"] = "1.3"
        isas_file.write_text(json.dumps(isas, indent=2))
        tests_file = policies / "eahub" / "sharing" / "decision_test.rego"
        tests_file.write_text(tests_file.read_text().replace("mental-health-crisis v1.2", "mental-health-crisis v1.3"))
        time.sleep(0.5)
        after = str(uuid.uuid4())
        _publish(settings, after)
        second, disclosures = _decision(settings, after)
        assert second["policy_revision"] != first["policy_revision"]
        assert {d["isa_version"] for d in disclosures} == {"1.3"}
        assert {d["policy_revision"] for d in disclosures} == {second["policy_revision"]}
        changes = [e for m in read_all(settings, topics.AUDIT, expect=0, settle_s=0.2)
                   for e in entries_of(m.value())]
        assert [(c["details"]["previous_revision"], c["policy_revision"]) for c in changes
                if c["kind"] == "POLICY_CHANGE"] == [("", first["policy_revision"]),
                                                      (first["policy_revision"], second["policy_revision"])]

        # A broken policy is refused; the last good one stays in force.
        (policies / "eahub" / "sharing" / "decision.rego").write_text("package eahub.sharing\nthis is not rego {")
        time.sleep(0.5)
        later = str(uuid.uuid4())
        _publish(settings, later)
        third, _ = _decision(settings, later)
        assert third["policy_revision"] == second["policy_revision"]
    finally:
        hub.shutdown()


def test_metrics_expose_router_counts_and_the_decision_cache(tmp_path: Path) -> None:
    import httpx

    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port())
    hub = start_hub(settings)
    try:
        for _ in range(3):
            _publish(settings, str(uuid.uuid4()))  # three events with the same policy facts
        deadline = time.monotonic() + 20
        values: dict[str, float] = {}
        while time.monotonic() < deadline:
            resp = httpx.get(f"http://{settings.http_host}:{settings.http_port}/metrics")
            values = {line.split()[0]: float(line.split()[1]) for line in resp.text.splitlines()
                      if line and not line.startswith("#")}
            if values.get("eahub_router_events_total") == 3:
                break
            time.sleep(0.3)
        assert values["eahub_router_events_total"] == 3
        assert values["eahub_router_shares_total"] == 3 * len(MH.expected_shared)
        assert values["eahub_policy_decision_cache_hit_ratio"] > 0
        assert values["eahub_policy_reloads_refused_total"] == 0
    finally:
        hub.shutdown()
