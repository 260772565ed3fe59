"""The hub heals after the embedded broker restarts (memory storage: every topic, offset and producer id is
lost). With the real router and audit service running, the broker is stopped and started again: the topic
guard recreates every hub topic with its configured partitions (none auto-created by a client), the router's
producer is replaced, both consumers rejoin, and events published after the restart are decided and recorded
in the ledger, with no step by hand."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient

from eahub.audit.bootstrap import build_audit_service, init_audit, open_audit
from eahub.audit.store import EntryFilter
from eahub.core import avro_codec, schemas, topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.event_json import from_json
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import DeliveryFailed, OutboundMessage
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.core.topic_guard import TopicGuard, guarded
from eahub.hub.init import initialise
from eahub.ingest.generator import generate
from eahub.router.bootstrap import build_router

pytestmark = pytest.mark.integration


def _partitions(settings: HubSettings) -> dict[str, int]:
    admin = AdminClient({"bootstrap.servers": settings.bootstrap_servers})
    return {name: len(t.partitions) for name, t in admin.list_topics(timeout=5).topics.items()
            if name.startswith("eahub.")}


def _wait(what: str, condition: Callable[[], bool], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.5)


def test_after_a_broker_restart_topics_are_recreated_and_routing_and_auditing_resume(tmp_path: Path) -> None:
    port = free_port()
    broker = EmbeddedBroker(port, log_path=tmp_path / "broker.log").start()
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=port)
    try:
        initialise(settings)
        init_audit(settings)
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        expected = {s.name: s.partitions for s in topics.all_topics(settings, agency_ids(settings.policies_dir))}
        pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
        events = [from_json(o) for o in generate(40, seed=13, start=datetime.now(UTC) - timedelta(days=1))]
        decided: set[str] = set()
        stop = threading.Event()
        failures: list[BaseException] = []

        def run_router(stop: threading.Event) -> None:
            router = build_router(settings, group_id="heal-router")
            router.on_decision = lambda event, _d: decided.add(event["event_id"])
            router.run(stop)

        def catching(target: Callable[[threading.Event], None]) -> Callable[[], None]:
            def run() -> None:
                try:
                    target(stop)
                except BaseException as exc:
                    failures.append(exc)
            return run

        audit = build_audit_service(settings, group_id="heal-audit")
        threads = [threading.Thread(target=catching(guarded(settings, run_router)), daemon=True),
                   threading.Thread(target=catching(audit.run), daemon=True)]
        for t in threads:
            t.start()
        publisher = KafkaPublisher(producer_config(settings), timeout_s=10)

        def publish(batch: list[dict[str, Any]]) -> None:
            messages = [OutboundMessage(topics.inbound(e["source_agency"]), pseudo.subject_ref(e).encode(),
                                        avro_codec.encode(schemas.CONCERN_EVENT, e)) for e in batch]
            deadline = time.monotonic() + 60
            while True:
                try:
                    publisher.publish(messages)
                    return
                except DeliveryFailed:
                    assert time.monotonic() < deadline, "publishing never recovered"

        publish(events[:20])
        _wait("the first events were decided", lambda: len(decided) == 20)

        broker.stop()
        time.sleep(2)
        broker = EmbeddedBroker(port, log_path=tmp_path / "broker2.log").start()
        _wait("the guard recreated every hub topic", lambda: set(expected) <= set(_partitions(settings)))
        assert {n: p for n, p in _partitions(settings).items() if n in expected} == expected, \
            "recreated with their configured partitions, none auto-created"

        publish(events[20:])
        _wait("events published after the restart were decided",
              lambda: {e["event_id"] for e in events[20:]} <= decided, timeout_s=90)
        ledger = open_audit(settings).store

        def recorded() -> set[str]:
            return {e.event_id for e in ledger.find(EntryFilter(kinds=("DECISION",)))}

        _wait("the audit service recorded the decisions made after the restart",
              lambda: {e["event_id"] for e in events[20:]} <= recorded(), timeout_s=90)
        assert not failures, f"a service stopped: {failures!r}"
        assert TopicGuard(settings).missing() == []
        stop.set()
        for t in threads:
            t.join(15)
        publisher.close()
    finally:
        broker.stop()
