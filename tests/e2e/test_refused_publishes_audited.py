"""Refused publishes through a running hub: an event written straight to another agency's inbound topic (a
spoof) and an event carrying a risk factor outside the controlled vocabulary each reach the dead-letter
topic, are shared with nobody, and leave an ACTION entry that `eahub audit query --kind action` finds —
with who, what and why, and no personal data."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.hub.hub import RunningHub
from tests.helpers import read_all
from tests.scenarios.cases import event

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_a_spoof_and_an_uncoded_risk_factor_are_dead_lettered_and_audited(hub: RunningHub) -> None:
    settings = hub.settings
    spoof = event(901, "lancashire-police", "MENTAL_HEALTH")  # claims the police, written to nwas's topic
    uncoded = event(902, "lancashire-police", "MENTAL_HEALTH", risk=("weapons", "suicidal-ideation"))
    publisher = KafkaPublisher(producer_config(settings))
    publisher.publish([
        OutboundMessage(topics.inbound("nwas"), b"k1", avro_codec.encode(schemas.CONCERN_EVENT, spoof)),
        OutboundMessage(topics.inbound("lancashire-police"), b"k2", avro_codec.encode(schemas.CONCERN_EVENT, uncoded)),
    ])
    publisher.close()

    entries: list[dict] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(entries) < 2:
        result = CliRunner().invoke(main, ["audit", "query", "--kind", "action", "--json"])
        assert result.exit_code == 0, result.output
        entries = [e for e in json.loads(result.stdout) if e["details"].get("action") == "inbound-refused"]
        time.sleep(0.3)
    by_event = {e["event_id"]: e for e in entries}
    assert set(by_event) == {spoof["event_id"], uncoded["event_id"]}
    s = by_event[spoof["event_id"]]
    assert s["source_agency"] == "nwas" and s["details"]["claimed_source_agency"] == "lancashire-police"
    assert s["details"]["dead_letter_kind"] == "SOURCE_MISMATCH" and "source_agency does not match" in s["reasons"][0]
    u = by_event[uncoded["event_id"]]
    assert u["details"]["dead_letter_kind"] == "SCHEMA_INVALID" and "risk_factors[1]" in u["reasons"][0]
    text = json.dumps(entries)
    assert spoof["subject"]["name"] not in text and "suicidal-ideation" not in text

    dead = [avro_codec.decode(m.value())[1] for m in read_all(settings, topics.DEADLETTER, expect=2)]
    assert {d["error_kind"] for d in dead} == {"SOURCE_MISMATCH", "SCHEMA_INVALID"}
    for agency in ("lscft-mental-health", "nwas", "lancashire-cc-adults"):
        assert read_all(settings, topics.board(agency), expect=0, settle_s=0.3) == []
    by_kind = CliRunner().invoke(main, ["audit", "query", "--kind", "action", "--from-agency", "nwas"])
    assert "inbound publish refused (SOURCE_MISMATCH)" in by_kind.output
