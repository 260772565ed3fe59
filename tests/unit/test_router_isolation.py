"""One event can fail, never the router: an event the router cannot decide or build outputs for is dead-lettered
(reason + original bytes) and the events after it in the same batch are still decided and committed. Times
outside the sane window are refused before anything is computed from them. In-memory ports as in
test_router_service (the real router on the real broker: tests/integration/test_router_extreme_events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import TopicPartition

from eahub.core import avro_codec, schemas, topics
from eahub.core.errors import ValidationFailed
from eahub.core.event_json import to_json
from eahub.ingest.validation import validate_event
from eahub.policy.model import Decision, PolicyRequest
from eahub.router.outputs import ResponseTimes
from tests.helpers import concern_event
from tests.unit.test_router_service import ScriptedEngine, _msg, _router

pytestmark = pytest.mark.unit


def _dead_letters(router: object) -> list[dict]:
    return [avro_codec.decode(m.value)[1] for m in router.publisher.sent  # type: ignore[attr-defined]
            if m.topic == topics.DEADLETTER]


def _decided(router: object) -> set[str]:
    return {e["event_id"] for e in (avro_codec.decode(m.value)[1] for m in router.publisher.sent  # type: ignore[attr-defined]
                                    if m.topic == topics.AUDIT) if e["kind"] == "DECISION"}


@pytest.mark.parametrize("field", ["reported_at", "occurred_at"])
@pytest.mark.parametrize("when", [datetime(9999, 12, 31, tzinfo=UTC), datetime(1, 1, 2, tzinfo=UTC)])
def test_a_time_outside_the_window_is_dead_lettered_and_the_next_event_is_still_decided(field: str,
                                                                                      when: datetime) -> None:
    bad, good = concern_event(), concern_event()
    bad[field] = when
    if field == "reported_at" and when.year == 1:
        bad["occurred_at"] = when
    value = avro_codec.encode(schemas.CONCERN_EVENT, bad)
    router, consumer = _router(ScriptedEngine())
    router.process_batch([_msg(value, offset=0), _msg(avro_codec.encode(schemas.CONCERN_EVENT, good), offset=1)])
    [dl] = _dead_letters(router)
    assert dl["error_kind"] == "SCHEMA_INVALID" and field in dl["error"] and dl["original_value"] == value
    assert _decided(router) == {good["event_id"]}
    assert consumer.commits == [[TopicPartition("eahub.inbound.lancashire-police", 0, 2)]]


@dataclass
class EngineFailingOn(ScriptedEngine):
    """Raises a programming error (not PolicyUnavailable) whenever a given event is in the request."""

    poison: str = ""

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        if any(r.event["event_id"] == self.poison for r in requests):
            raise ValueError("engine bug")
        return super().decide(requests)


def test_an_engine_error_on_one_event_dead_letters_that_event_and_decides_the_rest() -> None:
    events = [concern_event() for _ in range(3)]
    router, consumer = _router(EngineFailingOn(poison=events[1]["event_id"]))
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, e), offset=i) for i, e in enumerate(events)])
    [dl] = _dead_letters(router)
    assert dl["error_kind"] == "UNROUTABLE" and dl["error"] == "deciding the event failed: ValueError"
    assert dl["original_offset"] == 1
    assert _decided(router) == {events[0]["event_id"], events[2]["event_id"]}
    assert consumer.commits == [[TopicPartition("eahub.inbound.lancashire-police", 0, 3)]]


class OverflowingTimes(ResponseTimes):
    def due_by(self, grade: str, reported_at: datetime) -> datetime:
        raise OverflowError("date value out of range")


def test_a_failure_building_one_events_outputs_is_a_dead_letter_not_a_crash() -> None:
    router, consumer = _router(ScriptedEngine())
    router.times = OverflowingTimes()
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, concern_event()), offset=5)])
    [dl] = _dead_letters(router)
    assert dl["error"] == "building the outputs failed: OverflowError"
    assert [m.topic for m in router.publisher.sent] == [topics.DEADLETTER]  # type: ignore[attr-defined]
    assert router.stats.dead_letters == 1 and router.stats.events == 0
    assert consumer.commits == [[TopicPartition("eahub.inbound.lancashire-police", 0, 6)]]


@pytest.mark.parametrize(("field", "delta", "message"), [
    ("reported_at", timedelta(days=11 * 366), "years ago"),
    ("reported_at", timedelta(days=-1), "in the future"),
])
def test_ingest_refuses_times_outside_the_window(field: str, delta: timedelta, message: str) -> None:
    now = datetime.now(UTC)
    event = concern_event()
    event[field] = now - delta
    event["occurred_at"] = min(event["occurred_at"], event["reported_at"])
    with pytest.raises(ValidationFailed) as caught:
        validate_event(to_json(event), {"lancashire-police", "lscft-mental-health", "nwas"}, now)
    assert any(e.field == field and message in e.message for e in caught.value.errors)
