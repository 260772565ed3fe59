"""Ingest against the real embedded broker and real databases: a 202 means the event is on
eahub.inbound.<agency>; replays add nothing; the producer client and `eahub publish` apply the same
validation."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition
from fastapi.testclient import TestClient

from eahub.cli import main
from eahub.core import avro_codec, cloudevents, topics
from eahub.core.broker import free_port
from eahub.core.errors import ValidationFailed
from eahub.core.event_json import from_json
from eahub.core.kafka import consumer_config
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.ingest.bootstrap import build_app
from eahub.ingest.examples import example_event
from eahub.ingest.producer import ConcernProducer
from eahub.ingest.settings import IngestSettings
from eahub.ingest.tokens import TokenStore

pytestmark = pytest.mark.integration
POLICE = "lancashire-police"


@pytest.fixture
def settings(hub_settings: HubSettings) -> HubSettings:
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    return hub_settings


def read_topic(settings: HubSettings, topic: str, quiet_s: float = 0.5) -> list[Message]:
    """Every message now on `topic`: read from the beginning past the high watermarks, then until
    nothing more arrives for `quiet_s`. (Tansu 0.6.0 reports a high watermark of the last batch's base
    offset + 1, short of the end after a multi-record batch, so it is only a lower bound here.)"""
    consumer = Consumer(consumer_config(settings, f"test-{uuid.uuid4()}"))
    try:
        partitions = list(consumer.list_topics(topic, timeout=10).topics[topic].partitions)
        highs = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                 for p in partitions}
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        out: list[Message] = []
        reached = {p for p, high in highs.items() if high == 0}
        deadline, quiet_until = time.monotonic() + 30, time.monotonic() + quiet_s
        while len(reached) < len(partitions) or time.monotonic() < quiet_until:
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            msg = consumer.poll(0.2)
            if msg is None or msg.error():
                continue
            out.append(msg)
            quiet_until = time.monotonic() + quiet_s
            if msg.offset() + 1 >= highs[msg.partition()]:
                reached.add(msg.partition())
        return out
    finally:
        consumer.close()


def with_id(messages: list[Message], event_id: str) -> list[Message]:
    return [m for m in messages if cloudevents.as_dict(m.headers()).get("ce_id") == event_id]


def fresh_event(**overrides: Any) -> dict[str, Any]:
    return example_event(event_id=str(uuid.uuid4()), **overrides)


@pytest.fixture
def apps() -> Iterator[ExitStack]:
    """Started apps (lifespan run), shut down - publisher flushed and closed - after the test."""
    with ExitStack() as stack:
        yield stack


def start(apps: ExitStack, settings: HubSettings, **ingest: Any) -> TestClient:
    initialise(settings)  # as `eahub init` does; the app itself runs no DDL
    return apps.enter_context(TestClient(build_app(settings, IngestSettings(**ingest))))


def auth_for(settings: HubSettings, agency: str = POLICE) -> dict[str, str]:
    token = TokenStore.in_data_dir(settings.data_dir).issue(agency, agency_ids(settings.policies_dir))[1]
    return {"Authorization": f"Bearer {token}"}


def test_202_means_the_event_is_on_the_agency_inbound_topic(settings: HubSettings, database_url: str,
                                                            apps: ExitStack) -> None:
    settings = settings.model_copy(update={"database_url": database_url})
    client, auth = start(apps, settings), auth_for(settings)
    event = fresh_event()
    resp = client.post("/v1/events", json=event, headers=auth)
    assert resp.status_code == 202, resp.text
    assert resp.json() == {"event_id": event["event_id"], "topic": "eahub.inbound.lancashire-police"}

    [msg] = with_id(read_topic(settings, topics.inbound(POLICE)), event["event_id"])
    name, record = avro_codec.decode(msg.value())
    assert name == "eahub.ConcernEvent" and record["subject"]["nhs_number"] == "9990000018"
    ref = Pseudonymiser.from_data_dir(settings.data_dir).subject_ref(record)
    assert msg.key() == ref.encode()
    headers = cloudevents.as_dict(msg.headers())
    assert (headers["ce_source"], headers["ce_type"], headers["ce_subject"], headers["eahub_agency"]) == (
        "/agencies/lancashire-police", "uk.gov.eahub.concern.v1", ref, POLICE)
    assert headers["ce_specversion"] == "1.0" and headers["ce_time"]

    # the same body again: the same answer, and still exactly one message
    replay = client.post("/v1/events", json=event, headers=auth)
    assert (replay.status_code, replay.json()) == (202, resp.json())
    conflict = client.post("/v1/events", json={**event, "district": "Burnley"}, headers=auth)
    assert conflict.status_code == 409
    assert len(with_id(read_topic(settings, topics.inbound(POLICE)), event["event_id"])) == 1


def test_idempotency_survives_a_restart_of_the_api(settings: HubSettings, database_url: str,
                                                   apps: ExitStack) -> None:
    settings = settings.model_copy(update={"database_url": database_url})
    event, auth = fresh_event(), auth_for(settings)
    assert start(apps, settings).post("/v1/events", json=event, headers=auth).status_code == 202
    restarted = start(apps, settings)  # as a new process: same database, same token file
    assert restarted.post("/v1/events", json=event, headers=auth).status_code == 202
    assert len(with_id(read_topic(settings, topics.inbound(POLICE)), event["event_id"])) == 1


def test_invalid_event_goes_nowhere(settings: HubSettings, apps: ExitStack) -> None:
    client, auth = start(apps, settings), auth_for(settings)
    event = fresh_event(subject={"name": "Alex Example", "nhs_number": "9990000010"})
    resp = client.post("/v1/events", json=event, headers=auth)
    assert resp.status_code == 422
    assert resp.json()["errors"] == [{"field": "subject.nhs_number", "message": "check digit does not match"}]
    assert with_id(read_topic(settings, topics.inbound(POLICE)), event["event_id"]) == []


def test_503_when_the_broker_is_unreachable(settings: HubSettings, apps: ExitStack) -> None:
    dead = settings.model_copy(update={"broker_port": free_port()})
    client, auth = start(apps, dead, publish_timeout_seconds=1), auth_for(dead)
    event = fresh_event()
    resp = client.post("/v1/events", json=event, headers=auth)
    assert resp.status_code == 503 and resp.headers["content-type"] == "application/problem+json"
    # nothing was recorded as published: the same request against a live broker publishes
    assert start(apps, settings).post("/v1/events", json=event, headers=auth).status_code == 202
    assert len(with_id(read_topic(settings, topics.inbound(POLICE)), event["event_id"])) == 1


def test_producer_client_publishes_valid_and_rejects_invalid(settings: HubSettings) -> None:
    producer = ConcernProducer(settings, "nwas")
    try:
        good = fresh_event(source_agency="nwas")
        assert producer.publish(good) == good["event_id"]
        as_record = fresh_event(source_agency="nwas")
        assert producer.publish(from_json(as_record)) == as_record["event_id"]
        bad = fresh_event(source_agency="nwas", category="BURGLARY")
        with pytest.raises(ValidationFailed):
            producer.publish(bad)
    finally:
        producer.close()
    on_topic = read_topic(settings, topics.inbound("nwas"))
    assert len(with_id(on_topic, good["event_id"])) == 1
    assert len(with_id(on_topic, as_record["event_id"])) == 1
    assert with_id(on_topic, bad["event_id"]) == []
    [msg] = with_id(on_topic, good["event_id"])
    assert cloudevents.as_dict(msg.headers())["ce_source"] == "/agencies/nwas"


def test_eahub_publish_reports_each_event(settings: HubSettings, tmp_path: Path) -> None:
    good = [fresh_event(source_agency="nwas") for _ in range(2)]
    bad = fresh_event(source_agency="nwas", district="")
    spoof = fresh_event()  # declares lancashire-police
    lines = [json.dumps(good[0]), "{not json", json.dumps(bad), json.dumps(spoof), json.dumps(good[1])]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")
    array_file = tmp_path / "one.json"
    third = fresh_event(source_agency="nwas")
    array_file.write_text(json.dumps([third]))
    env = {"EAHUB_DATA_DIR": str(settings.data_dir), "EAHUB_BROKER_PORT": str(settings.broker_port)}
    args = ["publish", "--agency", "nwas", str(events_file), str(array_file)]
    result = CliRunner(env=env).invoke(main, args)
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0] == f"{good[0]['event_id']} published"
    assert out[1].startswith(f"{events_file}:2 rejected: not valid JSON")
    assert out[2] == f"{events_file}:3 rejected: district: must not be empty"
    assert out[3] == f"{events_file}:4 rejected: source_agency: is not nwas, the publishing agency"
    assert out[4] == f"{good[1]['event_id']} published"
    assert out[5] == f"{third['event_id']} published"
    on_topic = read_topic(settings, topics.inbound("nwas"))
    for e in [*good, third]:
        assert len(with_id(on_topic, e["event_id"])) == 1
    assert with_id(on_topic, bad["event_id"]) == []
    assert with_id(read_topic(settings, topics.inbound(POLICE)), spoof["event_id"]) == []
