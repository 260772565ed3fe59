"""The embedded broker, topic creation and the acknowledged publisher, on the real broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import topics
from eahub.core.broker import BrokerError, EmbeddedBroker, free_port, port_open
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.settings import HubSettings
from tests.helpers import read_all

pytestmark = pytest.mark.integration

AGENCIES = ["lancashire-police", "nwas"]


def test_create_topics_is_idempotent_with_configured_partitions(hub_settings: HubSettings) -> None:
    settings = hub_settings.model_copy(update={"inbound_partitions": 3})
    agencies = [f"agency-{uuid.uuid4().hex[:8]}"]  # the session broker is shared: a name no other test used
    first = topics.create_topics(settings, agencies)
    second = topics.create_topics(settings, agencies)
    names = {t.name for t in topics.all_topics(settings, agencies)}
    assert {f"eahub.inbound.{agencies[0]}", f"eahub.board.{agencies[0]}", "eahub.audit",
            "eahub.board-activity", "eahub.deadletter", "eahub.audit.checkpoints"} <= names
    assert set(first) == set(second) == names
    assert first[f"eahub.inbound.{agencies[0]}"] == "created"
    assert set(second.values()) == {"exists"}
    from confluent_kafka.admin import AdminClient

    meta = AdminClient(settings.kafka_config()).list_topics(timeout=10)
    assert len(meta.topics[f"eahub.inbound.{agencies[0]}"].partitions) == 3


def test_topics_create_command(hub_settings: HubSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_BROKER_PORT", str(hub_settings.broker_port))
    result = CliRunner().invoke(main, ["topics", "create"])
    assert result.exit_code == 0, result.output
    assert "eahub.inbound.lscft-mental-health" in result.output
    again = CliRunner().invoke(main, ["topics", "create"])
    assert again.exit_code == 0 and "created" not in again.output


def test_publish_returns_after_acknowledgement_and_messages_are_readable(hub_settings: HubSettings) -> None:
    topics.create_topics(hub_settings, AGENCIES)
    publisher = KafkaPublisher(producer_config(hub_settings))
    batch = [OutboundMessage("eahub.deadletter", f"k{i}".encode(), f"v{i}".encode(), [("h", b"1")]) for i in range(50)]
    publisher.publish(batch)
    publisher.close()
    got = read_all(hub_settings, "eahub.deadletter", expect=50)
    assert sorted(m.value() for m in got if m.value().startswith(b"v")) == sorted(m.value for m in batch)


def test_publish_to_an_unreachable_broker_fails_loudly(hub_settings: HubSettings) -> None:
    settings = hub_settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:1"})
    publisher = KafkaPublisher(producer_config(settings, **{"message.timeout.ms": 1500}), timeout_s=5)
    with pytest.raises(DeliveryFailed):
        publisher.publish([OutboundMessage("eahub.deadletter", None, b"x")])
    publisher.close()


def test_broker_refuses_a_port_in_use(broker: EmbeddedBroker) -> None:
    with pytest.raises(BrokerError, match="already in use"):
        EmbeddedBroker(broker.port).start()


def test_kafka_security_settings_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_KAFKA_BOOTSTRAP", "kafka-1:9093")
    monkeypatch.setenv("EAHUB_KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("EAHUB_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("EAHUB_KAFKA_SASL_PASSWORD", "s3cret")
    config = HubSettings().kafka_config()
    assert config["bootstrap.servers"] == "kafka-1:9093"
    assert config["security.protocol"] == "SASL_SSL"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    from eahub.core.settings import redacted

    assert redacted(config)["sasl.password"] == "***"


def test_eahub_broker_serves_on_the_configured_port_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "EAHUB_BROKER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "eahub", "broker"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert f"127.0.0.1:{port}" in (proc.stdout.readline() if proc.stdout else "")
        assert port_open("127.0.0.1", port)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert not port_open("127.0.0.1", port)
    finally:
        proc.kill()


def test_the_embedded_broker_dies_with_a_killed_parent(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "EAHUB_BROKER_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "eahub", "broker"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, text=True)
    assert f"127.0.0.1:{port}" in (proc.stdout.readline() if proc.stdout else "")
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait(10)
    deadline = time.monotonic() + 5
    while port_open("127.0.0.1", port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_open("127.0.0.1", port)


def test_a_message_the_client_refuses_is_a_delivery_failure_not_a_crash(hub_settings: HubSettings) -> None:
    publisher = KafkaPublisher(producer_config(hub_settings))
    with pytest.raises(DeliveryFailed, match="MSG_SIZE_TOO_LARGE"):
        publisher.publish([OutboundMessage("eahub.deadletter", None, b"x" * (2 * 1024 * 1024))])
    publisher.close()
