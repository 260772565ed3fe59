"""confluent-kafka adapters: the idempotent producer behind the publisher port, and every consumer the hub
builds (group members of the services, and group-less readers that assign partitions themselves).
Kafka client construction lives here and nowhere else."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.settings import HubSettings


def producer_config(settings: HubSettings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        **settings.kafka_config(),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "none",
        "message.timeout.ms": 30000,
    }
    config.update(overrides)
    return config


# The embedded broker (Tansu) differs from Kafka in two ways that cost latency. It answers a fetch only when
# fetch.wait.max.ms has passed, even when data arrived meanwhile (Kafka answers at once): 10 ms instead of
# librdkafka's 500 puts a message on its way within 10 ms, for about 100 empty fetches a second per idle
# consumer (see bench/bench_latency.py for the idle CPU this costs). And it completes a group join after
# half the session timeout, rounded up to a second: 2 s instead of 6 s joins in 1 s instead of 3 s (a real
# Kafka refuses sessions under its group.min.session.timeout.ms, 6 s by default, hence embedded only).
# Heartbeats come from librdkafka's own thread, so a busy interpreter does not miss them.
EMBEDDED_BROKER_CONSUMER: dict[str, Any] = {
    "fetch.wait.max.ms": 10,
    "session.timeout.ms": 2000,
    "heartbeat.interval.ms": 500,
}


def consumer_config(settings: HubSettings, group_id: str, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        **settings.kafka_config(),
        "group.id": group_id,
        "enable.auto.commit": False,
        "auto.offset.reset": "earliest",
        "isolation.level": "read_committed",
        # The embedded broker joins groups in about half the session timeout; Kafka is happy with these.
        "session.timeout.ms": 6000,
        "heartbeat.interval.ms": 1000,
        "partition.assignment.strategy": "range",
    }
    if settings.embedded_broker:
        config.update(EMBEDDED_BROKER_CONSUMER)
    config.update(overrides)
    return config


class KafkaPublisher:
    """Publisher port over an idempotent confluent-kafka producer. `publish` blocks until every
    message of the batch is acknowledged by the broker (acks=all), or raises DeliveryFailed."""

    def __init__(self, config: dict[str, Any], timeout_s: float = 30.0) -> None:
        self._producer = Producer(config)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()

    def publish(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        pending = len(messages)
        errors: list[str] = []

        fatal: list[KafkaError] = []

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            nonlocal pending
            pending -= 1
            if err is not None:
                errors.append(f"{err.name()}: {err.str()}")
                if err.fatal():
                    fatal.append(err)

        with self._lock:
            for m in messages:
                while True:
                    try:
                        headers: list[tuple[str, str | bytes | None]] = list(m.headers)
                        self._producer.produce(m.topic, m.value, m.key, headers=headers, on_delivery=on_delivery)
                        break
                    except BufferError:
                        self._producer.poll(0.05)
                    except KafkaException as exc:  # refused before sending (size, unknown topic...): not acked
                        self._producer.poll(0)
                        raise DeliveryFailed(f"message to {m.topic} refused: {exc.args[0].name()}") from None
            deadline = time.monotonic() + self._timeout_s
            while pending > 0:
                if time.monotonic() > deadline:
                    raise DeliveryFailed(
                        f"{pending} of {len(messages)} messages unacknowledged after {self._timeout_s}s")
                self._producer.poll(0.05)
        if fatal:
            raise KafkaException(fatal[0])  # the producer cannot go on: stop loudly
        if errors:
            raise DeliveryFailed(f"{len(errors)} of {len(messages)} messages failed: {errors[0]}")

    def close(self) -> None:
        """Deliver what is queued (up to 10 s), then release the client so it stops reconnecting."""
        self._producer.flush(10)
        self._producer.close()


def usable(msgs: list[Message]) -> list[Message]:
    """The messages of a consumed batch that carry data. End-of-partition and not-yet-existing topic events
    are dropped, other transient errors logged and dropped; a fatal client error stops the process."""
    out = []
    for msg in msgs:
        err = msg.error()
        if err is None:
            out.append(msg)
        elif err.fatal():
            raise KafkaException(err)
        elif err.code() not in (KafkaError._PARTITION_EOF, KafkaError.UNKNOWN_TOPIC_OR_PART):
            get_logger("eahub.kafka").warning("consumer error", error=err.str())
    return out


# A commit refused because the group rebalanced: the partitions' new owner re-reads from the last commit and
# produces the same outputs with the same ids, which every store dedupes. Not a reason to stop.
_LOST_OWNERSHIP = (KafkaError.REBALANCE_IN_PROGRESS, KafkaError.ILLEGAL_GENERATION, KafkaError.UNKNOWN_MEMBER_ID,
                   KafkaError._NO_OFFSET)


def commit_after(consumer: Consumer, msgs: list[Message]) -> None:
    """Synchronously commit, per partition, the offset after the last of `msgs`."""
    last: dict[tuple[str, int], int] = {}
    for m in msgs:
        tp = (m.topic() or "", m.partition() or 0)
        last[tp] = max(last.get(tp, -1), m.offset() or 0)
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()], asynchronous=False)
    except KafkaException as exc:
        if exc.args[0].code() not in _LOST_OWNERSHIP:
            raise
        get_logger("eahub.kafka").warning("commit refused after a rebalance; the new owner will redeliver",
                                          error=exc.args[0].str())


def new_consumer(settings: HubSettings, group_id: str, topics: list[str], **overrides: Any) -> Consumer:
    """A member of `group_id` subscribed to `topics` (names or `^regex`), committing only by hand."""
    consumer = Consumer(consumer_config(settings, group_id, **overrides))
    consumer.subscribe(topics)
    return consumer


def reader(settings: HubSettings, purpose: str, **overrides: Any) -> Consumer:
    """A consumer outside any group, for reading chosen partitions from chosen offsets (`assign`): it never
    commits, so it disturbs no service's position."""
    fetch = {"fetch.wait.max.ms": EMBEDDED_BROKER_CONSUMER["fetch.wait.max.ms"]} if settings.embedded_broker else {}
    return Consumer({**settings.kafka_config(), "group.id": f"eahub-{purpose}-{uuid.uuid4()}",
                     "enable.auto.commit": False, **fetch, **overrides})


def read_at(consumer: Consumer, topic: str, partition: int, offset: int, timeout_s: float = 10.0) -> Message | None:
    """The message at (topic, partition, offset), or None when it is no longer there (retention, a lost broker)."""
    consumer.assign([TopicPartition(topic, partition, offset)])
    try:
        msg = consumer.poll(timeout_s)
    finally:
        consumer.unassign()
    if msg is None or msg.error() is not None or msg.offset() != offset:
        return None
    return msg
