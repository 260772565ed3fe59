"""One event can fail, never the router: an event the router cannot decide or build outputs for is dead-lettered
(reason + original bytes) and the events after it in the same batch are still decided and committed. Times
outside the sane window are refused before anything is computed from them. In-memory ports as in
test_router_service (the real router on the real broker: tests/integration/test_router_extreme_events.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from confluent_kafka import TopicPartition

from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.database import make_engine
from eahub.core.errors import ValidationFailed
from eahub.core.event_json import to_json
from eahub.ingest.validation import validate_event
from eahub.policy.model import Decision, PolicyRequest
from eahub.router.event_digests import EventDigests
from eahub.router.event_digests import create_tables as create_router_tables
from eahub.router.outputs import ResponseTimes
from eahub.router.service import Router
from tests.helpers import concern_event
from tests.unit.test_router_service import RecordingConsumer, ScriptedEngine, _msg, _router

pytestmark = pytest.mark.unit


def _dead_letters(router: object) -> list[dict]:
    return [avro_codec.decode(m.value)[1] for m in router.publisher.sent  # type: ignore[attr-defined]
            if m.topic == topics.DEADLETTER]


def _decided(router: object) -> set[str]:
    return {e["event_id"] for m in router.publisher.sent if m.topic == topics.AUDIT  # type: ignore[attr-defined]
            for e in entries_of(m.value) if e["kind"] == "DECISION"}


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
    assert [m.topic for m in router.publisher.sent] == [topics.DEADLETTER, topics.AUDIT]  # type: ignore[attr-defined]
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


def _with_memory(tmp_path: Path) -> tuple[Router, RecordingConsumer]:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")  # a real SQLite database
    create_router_tables(engine)
    router, consumer = _router(ScriptedEngine())
    router.digests = EventDigests(engine)
    return router, consumer


def test_an_event_id_reused_with_other_content_is_refused_and_audited(tmp_path: Path) -> None:
    first = concern_event()
    reused = {**first, "district": "Burnley", "category": "DOMESTIC_ABUSE"}
    router, consumer = _with_memory(tmp_path)
    original = avro_codec.encode(schemas.CONCERN_EVENT, first)
    router.process_batch([_msg(original, offset=0)])
    router.process_batch([_msg(original, offset=1)])  # a replay of the same content: decided again, same ids
    value = avro_codec.encode(schemas.CONCERN_EVENT, reused)
    router.process_batch([_msg(value, offset=2)])
    [dl] = _dead_letters(router)
    assert dl["error"].startswith("event-id-reused") and dl["original_value"] == value and dl["original_offset"] == 2
    entries = [e for m in router.publisher.sent if m.topic == topics.AUDIT  # type: ignore[attr-defined]
               for e in entries_of(m.value)]
    [action] = [e for e in entries if e["kind"] == "ACTION"]
    assert action["details"]["action"] == "event-id-reused" and action["event_id"] == first["event_id"]
    cases = [avro_codec.decode(m.value)[1] for m in router.publisher.sent  # type: ignore[attr-defined]
             if m.topic.startswith(topics.BOARD_PREFIX)]
    assert {c["concern"]["district"] for c in cases} == {first["district"]}, "no board got the reused content"
    assert router.stats.events == 2
    assert consumer.commits[-1] == [TopicPartition("eahub.inbound.lancashire-police", 0, 3)]


def test_reuse_within_one_batch_keeps_the_first_content(tmp_path: Path) -> None:
    first = concern_event()
    router, _ = _with_memory(tmp_path)
    router.process_batch([_msg(avro_codec.encode(schemas.CONCERN_EVENT, first), offset=0),
                          _msg(avro_codec.encode(schemas.CONCERN_EVENT, {**first, "district": "Chorley"}), offset=1)])
    [dl] = _dead_letters(router)
    assert dl["original_offset"] == 1 and router.stats.events == 1


def test_a_producer_clients_python_strings_with_lone_surrogates_are_field_errors_not_crashes() -> None:
    event = to_json(concern_event())
    event["district"] = "\ud800"
    event["subject"]["name"] = "a\udfff"
    with pytest.raises(ValidationFailed) as caught:
        validate_event(event, {"lancashire-police"}, datetime.now(UTC))
    assert {e.field for e in caught.value.errors} == {"district", "subject.name"}


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"])
def test_a_time_that_overflows_when_converted_to_utc_is_a_field_error(value: str) -> None:
    event = to_json(concern_event())
    event["reported_at"] = value
    with pytest.raises(ValidationFailed) as caught:
        validate_event(event, {"lancashire-police"}, datetime.now(UTC))
    assert "reported_at" in {e.field for e in caught.value.errors}
