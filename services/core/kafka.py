"""confluent-kafka adapters: the idempotent producer behind the publisher port, and every consumer the hub
builds (group members of the services, and group-less readers that assign partitions themselves).
Kafka client construction lives here and nowhere else."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from eahub.core.logging import get_logger, kafka_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.settings import HubSettings


def producer_config(settings: HubSettings, **overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        **settings.kafka_config(),
        "enable.idempotence": True,
        "acks": "all",
        # Every publish waits for its batch's acknowledgements (the router twice per batch: its audit records,
        # then its cases), so lingering is paid on each batch. 1 ms still packs what one batch queues in a loop
        # into the same requests; librdkafka's 5 ms cost about 4 ms per wait (bench_latency.py --hops).
        "linger.ms": 1,
        "compression.type": "none",
        "message.timeout.ms": 30000,
        "allow.auto.create.topics": False,  # topics are created explicitly (see core.topic_guard)
        **kafka_logger(),
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
        "allow.auto.create.topics": False,
        **kafka_logger(),
    }
    if settings.embedded_broker:
        config.update(EMBEDDED_BROKER_CONSUMER)
    config.update(overrides)
    return config


class KafkaPublisher:
    """Publisher port over an idempotent confluent-kafka producer. `publish` blocks until every message of
    ITS batch is acknowledged by the broker (acks=all), or raises DeliveryFailed within `timeout_s`.

    Concurrent `publish` calls each wait for their own acknowledgements only: delivery reports are served by
    one background poller thread, never under a lock shared by the callers. A producer that hits a fatal
    error (an idempotent producer whose producer id a restarted broker forgot: UNKNOWN_PRODUCER_ID,
    OUT_OF_ORDER_SEQUENCE_NUMBER) cannot be used again — librdkafka's answer is a new instance — so it is
    replaced by a new one and the unacknowledged messages of every waiting batch are re-sent, unchanged
    (same keys, values, ids: every store dedupes). The embedded broker keeps producer ids in memory only:
    after its restart librdkafka does not fail fatally but bumps its epoch for ever against a broker that
    no longer knows the id. So the producer is also replaced when the broker is reachable again after all
    brokers were down, and after any batch it could not deliver (before DeliveryFailed is raised)."""

    def __init__(self, config: dict[str, Any], timeout_s: float = 30.0) -> None:
        self._config = dict(config)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()  # guards the producer swap only, never held while waiting
        self._generation = 0
        self._fatal_generation = -1
        self._fatal_reason = ""
        self._down_generation = -1
        self._producer = self._new_producer(0)
        self._closed = threading.Event()
        self.replacements = 0
        self.last_success = 0.0
        self.last_failure = 0.0
        self._poller = threading.Thread(target=self._poll_loop, name="kafka-publisher-poll", daemon=True)
        self._poller.start()

    def publish(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        if self._closed.is_set():
            raise DeliveryFailed("the publisher is closed")
        deadline = time.monotonic() + self._timeout_s
        unacked = dict(enumerate(messages))
        while True:
            generation, producer = self._current()
            attempt = _Attempt(unacked)
            refused = self._produce_all(producer, generation, attempt, deadline)
            if refused is not None:
                self._failed()
                raise DeliveryFailed(refused)
            while not attempt.done.wait(0.05):
                if self._fatal_generation == generation or self._generation != generation:
                    break
                if time.monotonic() > deadline:
                    self._failed()
                    self._replace(generation, f"no acknowledgement within {self._timeout_s}s")
                    raise DeliveryFailed(
                        f"{len(unacked)} of {len(messages)} messages unacknowledged after {self._timeout_s}s")
            if not unacked:
                self.last_success = time.monotonic()
                return
            if attempt.fatal or self._fatal_generation == generation or self._generation != generation:
                self._replace(generation, attempt.fatal or self._fatal_reason)
                if time.monotonic() < deadline:
                    continue  # re-send what is still unacknowledged, on the new producer
            self._failed()
            self._replace(generation, "a batch could not be delivered")
            errors = attempt.errors or ["no acknowledgement"]
            raise DeliveryFailed(f"{len(unacked)} of {len(messages)} messages failed: {errors[0]}")

    @property
    def healthy(self) -> bool:
        """False while the producer is broken or its latest publish failed."""
        return self._fatal_generation != self._generation and self.last_failure <= self.last_success

    def broker_reachable(self, timeout_s: float = 2.0) -> bool:
        return self._reachable(self._current()[1], timeout_s)

    def close(self) -> None:
        """Deliver what is queued (up to 2 s, so a service stops promptly), then release the client."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._poller.join(5)
        producer = self._current()[1]
        producer.flush(2)  # unacknowledged batches were never committed: they are read and sent again
        producer.close()

    def _current(self) -> tuple[int, Producer]:
        with self._lock:
            return self._generation, self._producer

    def _failed(self) -> None:
        self.last_failure = time.monotonic()

    def _new_producer(self, generation: int) -> Producer:
        def on_error(err: KafkaError) -> None:
            if err.fatal():
                self._fatal_reason = f"{err.name()}: {err.str()}"
                self._fatal_generation = generation
            elif err.code() == KafkaError._ALL_BROKERS_DOWN:
                self._down_generation = generation
        return Producer({**self._config, "error_cb": on_error})

    def _produce_all(self, producer: Producer, generation: int, attempt: _Attempt, deadline: float) -> str | None:
        """Queue every unacknowledged message; a refusal before sending (size...) is returned, not retried."""
        for index, m in list(attempt.unacked.items()):
            while True:
                try:
                    headers: list[tuple[str, str | bytes | None]] = list(m.headers)
                    producer.produce(m.topic, m.value, m.key, headers=headers, on_delivery=attempt.callback(index))
                    break
                except BufferError:
                    if time.monotonic() > deadline:
                        return f"producer queue full for {self._timeout_s}s"
                    time.sleep(0.02)
                except KafkaException as exc:
                    error: KafkaError = exc.args[0]
                    if error.fatal() or error.code() == KafkaError._FATAL:
                        attempt.abandon(f"{error.name()}: {error.str()}")
                        return None
                    attempt.abandon("")
                    return f"message to {m.topic} refused: {error.name()}"
        attempt.all_queued()
        return None

    def _replace(self, generation: int, reason: str) -> None:
        with self._lock:
            if self._generation != generation:
                return  # another caller replaced it already
            old = self._producer
            self._generation += 1
            self._producer = self._new_producer(self._generation)
            self.replacements += 1
        get_logger("eahub.kafka").error("producer replaced by a new one; unacknowledged messages are re-sent",
                                        reason=reason, replacements=self.replacements)
        try:
            old.purge()
            old.poll(0)
            old.close()
        except (KafkaException, RuntimeError):
            pass

    def _poll_loop(self) -> None:
        connected = -1
        while not self._closed.is_set():
            generation, producer = self._current()
            if connected != generation:
                # Connect a new producer at once: an idempotent producer waits for a broker connection to get its
                # producer id, and librdkafka opens one only on its next timer tick, so a publish soon after the
                # start would wait 0.5-1 s for its acknowledgement (the demo's first decision did).
                connected = generation
                self._reachable(producer, 0.5)
            try:
                producer.poll(0.05)
            except (KafkaException, RuntimeError):
                time.sleep(0.05)  # a producer closed by a replacement: take the new one
            if self._fatal_generation == generation:
                self._replace(generation, self._fatal_reason)
            elif self._down_generation == generation and self._reachable(producer, 0.5):
                self._replace(generation, "the broker is reachable again after all brokers were down")

    @staticmethod
    def _reachable(producer: Producer, timeout_s: float) -> bool:
        try:
            producer.list_topics(timeout=timeout_s)
            return True
        except (KafkaException, RuntimeError):
            return False


class _Attempt:
    """One try at delivering a batch's unacknowledged messages on one producer. Delivery reports (on the
    poller thread) remove acknowledged messages from `unacked`; `done` is set once every report is in."""

    def __init__(self, unacked: dict[int, OutboundMessage]) -> None:
        self.unacked = unacked
        self.errors: list[str] = []
        self.fatal = ""
        self.done = threading.Event()
        self._lock = threading.Lock()
        self._queued = 0
        self._reported = 0
        self._complete = False

    def callback(self, index: int) -> Callable[[KafkaError | None, Message], None]:
        with self._lock:
            self._queued += 1

        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            with self._lock:
                self._reported += 1
                if err is None:
                    self.unacked.pop(index, None)
                else:
                    self.errors.append(f"{err.name()}: {err.str()}")
                    if err.fatal() or err.code() == KafkaError._FATAL:
                        self.fatal = f"{err.name()}: {err.str()}"
                self._check()
        return on_delivery

    def all_queued(self) -> None:
        with self._lock:
            self._complete = True
            self._check()

    def abandon(self, fatal: str) -> None:
        with self._lock:
            self.fatal = fatal or self.fatal
            self.done.set()

    def _check(self) -> None:
        if self._complete and self._reported >= self._queued:
            self.done.set()


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
# A commit that could not be made while the group coordinator moves or the broker is away (a restart): the
# outputs are already durable, a later commit covers these offsets, and a redelivery before it is deduped.
_COORDINATOR_AWAY = (KafkaError._WAIT_COORD, KafkaError.COORDINATOR_NOT_AVAILABLE, KafkaError.NOT_COORDINATOR,
                     KafkaError.COORDINATOR_LOAD_IN_PROGRESS, KafkaError._TRANSPORT, KafkaError._TIMED_OUT,
                     KafkaError.REQUEST_TIMED_OUT, KafkaError._ALL_BROKERS_DOWN, KafkaError.UNKNOWN_TOPIC_OR_PART,
                     KafkaError._UNKNOWN_PARTITION, KafkaError._UNKNOWN_TOPIC, KafkaError._STATE)


def commit_after(consumer: Consumer, msgs: list[Message]) -> None:
    """Synchronously commit, per partition, the offset after the last of `msgs`."""
    last: dict[tuple[str, int], int] = {}
    for m in msgs:
        tp = (m.topic() or "", m.partition() or 0)
        last[tp] = max(last.get(tp, -1), m.offset() or 0)
    try:
        consumer.commit(offsets=[TopicPartition(t, p, o + 1) for (t, p), o in last.items()], asynchronous=False)
    except KafkaException as exc:
        code = exc.args[0].code()
        if code in _LOST_OWNERSHIP:
            get_logger("eahub.kafka").warning("commit refused after a rebalance; the new owner will redeliver",
                                              error=exc.args[0].str())
        elif code in _COORDINATOR_AWAY:
            get_logger("eahub.kafka").warning("commit not made while the coordinator is away; a later commit "
                                              "covers it, a redelivery before then is deduped",
                                              error=exc.args[0].str())
        else:
            raise


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
                     "enable.auto.commit": False, **kafka_logger(), **fetch, **overrides})


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
