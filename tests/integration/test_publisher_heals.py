"""The publisher heals: the real embedded broker (memory-only, so it forgets producer ids, topics and offsets)
is stopped and started again under a `KafkaPublisher`. A batch waiting through the outage is delivered by a
new producer once the broker is back; concurrent publishes during the outage each get their own prompt
DeliveryFailed instead of queueing behind one another; afterwards publishing works again by itself."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from eahub.core import topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.helpers import read_all

pytestmark = pytest.mark.integration


@pytest.fixture
def restartable(tmp_path: Path) -> Iterator[tuple[HubSettings, list[EmbeddedBroker]]]:
    port = free_port()
    holder = [EmbeddedBroker(port, log_path=tmp_path / "broker.log").start()]
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=port)
    topics.create_topics(settings, agency_ids(settings.policies_dir))
    try:
        yield settings, holder
    finally:
        holder[0].stop()


def _restart(settings: HubSettings, holder: list[EmbeddedBroker], tmp_log: Path) -> None:
    holder[0] = EmbeddedBroker(settings.broker_port, log_path=tmp_log).start()
    topics.create_topics(settings, agency_ids(settings.policies_dir))


def test_a_batch_waiting_through_a_broker_restart_is_delivered_by_a_new_producer(
        restartable: tuple[HubSettings, list[EmbeddedBroker]], tmp_path: Path) -> None:
    settings, holder = restartable
    publisher = KafkaPublisher(producer_config(settings), timeout_s=30)
    publisher.publish([OutboundMessage(topics.DEADLETTER, b"k", b"before")])
    holder[0].stop()
    outcome: list[BaseException | None] = []
    batch = [OutboundMessage(topics.DEADLETTER, b"k", f"during-{i}".encode()) for i in range(20)]
    waiting = threading.Thread(target=lambda: outcome.append(_try(publisher, batch)))
    waiting.start()
    time.sleep(3)
    _restart(settings, holder, tmp_path / "broker2.log")
    waiting.join(40)
    assert outcome == [None], "the batch was delivered once the broker was back"
    assert publisher.replacements >= 1 and publisher.healthy
    publisher.publish([OutboundMessage(topics.DEADLETTER, b"k", b"after")])
    values = {m.value() for m in read_all(settings, topics.DEADLETTER, expect=21)}
    assert {m.value for m in batch} | {b"after"} <= values
    publisher.close()


def test_concurrent_publishes_during_an_outage_each_fail_within_their_own_timeout_then_recover(
        restartable: tuple[HubSettings, list[EmbeddedBroker]], tmp_path: Path) -> None:
    settings, holder = restartable
    timeout_s = 3.0
    publisher = KafkaPublisher(producer_config(settings, **{"message.timeout.ms": 2500}), timeout_s=timeout_s)
    publisher.publish([OutboundMessage(topics.DEADLETTER, b"k", b"before")])
    holder[0].stop()
    results: list[tuple[float, BaseException | None]] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        started = time.monotonic()
        error = _try(publisher, [OutboundMessage(topics.DEADLETTER, b"k", f"client-{i}".encode())])
        with lock:
            results.append((time.monotonic() - started, error))

    clients = [threading.Thread(target=one, args=(i,)) for i in range(7)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(60)
    assert len(results) == 7 and all(isinstance(e, DeliveryFailed) for _, e in results)
    slowest = max(elapsed for elapsed, _ in results)
    # Queued behind one another, the 7th would wait 7 timeouts; each waiting only for its own: about one.
    assert slowest < 2 * timeout_s, f"a client waited {slowest:.1f}s: requests queued behind each other"
    assert not publisher.healthy
    _restart(settings, holder, tmp_path / "broker2.log")
    deadline = time.monotonic() + 30
    while _try(publisher, [OutboundMessage(topics.DEADLETTER, b"k", b"after")]) is not None:
        assert time.monotonic() < deadline, "publishing did not recover by itself after the broker came back"
    assert publisher.healthy
    publisher.close()


def _try(publisher: KafkaPublisher, batch: list[OutboundMessage]) -> BaseException | None:
    try:
        publisher.publish(batch)
        return None
    except DeliveryFailed as exc:
        return exc
