"""One contract for both adapters of the board's ActivityPublisher port (in-memory, and Kafka on the embedded
broker): a published record is delivered once acknowledged, with its id, schema and key; an unreachable trail
raises AuditUnavailable."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from eahub.board import activity
from eahub.board.activity import InMemoryActivityPublisher, KafkaActivityPublisher
from eahub.board.model import AuditUnavailable
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.helpers import read_all

pytestmark = pytest.mark.contract


class Adapter:
    def __init__(self, publisher: Any, delivered: Callable[[str], list[dict[str, Any]]],
                 broken: Callable[[], Any]) -> None:
        self.publisher, self.delivered, self.broken = publisher, delivered, broken


@pytest.fixture(params=["memory", "kafka"])
def adapter(request: pytest.FixtureRequest) -> Iterator[Adapter]:
    if request.param == "memory":
        mem = InMemoryActivityPublisher()

        def broken_memory() -> InMemoryActivityPublisher:
            down = InMemoryActivityPublisher()
            down.down = True
            return down

        yield Adapter(mem, lambda subject: [r for r in mem.records if r["subject_ref"] == subject], broken_memory)
        return
    request.applymarker(pytest.mark.integration)
    settings: HubSettings = request.getfixturevalue("hub_settings")
    topics.create_topics(settings, agency_ids(settings.policies_dir))
    kafka = KafkaActivityPublisher(KafkaPublisher(producer_config(settings)))
    held = socket.socket()
    held.bind(("127.0.0.1", 0))  # bound, never listening, held until the end: nothing answers there
    dead: list[KafkaActivityPublisher] = []

    def delivered(subject: str) -> list[dict[str, Any]]:
        msgs = read_all(settings, topics.BOARD_ACTIVITY, timeout_s=10)
        return [avro_codec.decode(m.value(), expected=schemas.BOARD_ACTIVITY)[1] for m in msgs
                if m.key() == subject.encode()]

    def broken_kafka() -> KafkaActivityPublisher:
        down = settings.model_copy(update={"broker_port": held.getsockname()[1]})
        inner = KafkaPublisher(producer_config(down, **{"message.timeout.ms": 1500}), timeout_s=2.0)
        dead.append(KafkaActivityPublisher(inner))
        return dead[-1]

    try:
        yield Adapter(kafka, delivered, broken_kafka)
    finally:
        kafka.close()
        for d in dead:
            d._publisher._producer.purge()  # type: ignore[attr-defined]
            d.close()
        held.close()


def _record(subject: str) -> dict[str, Any]:
    return activity.record(activity.ACTION, occurred_at=datetime.now(UTC).replace(microsecond=0),
                           actor="board:lancashire-cc-adults:u1", agency="lancashire-cc-adults",
                           id_parts=(subject, "claim"), case={"case_id": "c", "subject_ref": subject},
                           action="claim", from_state="NEW", to_state="ALLOCATED", outcome="changed")


def test_published_records_are_delivered(adapter: Adapter) -> None:
    subject = f"subj-{uuid.uuid4().hex[:8]}"
    rec = _record(subject)
    adapter.publisher.publish([rec])
    [got] = adapter.delivered(subject)
    assert got["activity_id"] == rec["activity_id"] and got["action"] == "claim"
    assert got["occurred_at"] == rec["occurred_at"]


def test_an_unreachable_trail_raises_audit_unavailable(adapter: Adapter) -> None:
    with pytest.raises(AuditUnavailable):
        adapter.broken().publish([_record("subj-x")])
