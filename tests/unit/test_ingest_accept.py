"""The handler under concurrency: a duplicate arriving while the first is being written waits for
it and answers as a replay; exactly one message is published."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from eahub.core.event_json import to_json
from eahub.core.messages import InMemoryPublisher, OutboundMessage
from eahub.core.paths import POLICIES_DIR
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.ingest.accept import Accepted, IdConflict, IngestPorts, accept_event
from eahub.ingest.examples import example_event
from eahub.ingest.idempotency import PENDING, Idempotency, IdempotencyRow, InMemoryIdempotencyRecords, json_body_hash
from eahub.ingest.validation import validate_event

pytestmark = pytest.mark.unit
NOW = datetime(2026, 11, 20, 16, 15, tzinfo=UTC)


class GatedPublisher(InMemoryPublisher):
    """Holds the first publish until released, as a slow broker ack would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def publish(self, messages: list[OutboundMessage]) -> None:
        self.entered.set()
        self.release.wait(10)
        super().publish(messages)


def test_concurrent_duplicate_waits_and_replays() -> None:
    publisher = GatedPublisher()
    ports = IngestPorts(publisher=publisher, idempotency=Idempotency(InMemoryIdempotencyRecords()),
                        pseudonymiser=Pseudonymiser(b"k" * 32), agency_ids=agency_ids(POLICIES_DIR),
                        clock=lambda: NOW, poll_s=0.01)
    results: list[Accepted] = []

    def post() -> None:
        results.append(accept_event(example_event(NOW), "lancashire-police", ports))

    first = threading.Thread(target=post)
    first.start()
    assert publisher.entered.wait(10)
    second = threading.Thread(target=post)
    second.start()
    second.join(0.2)
    assert second.is_alive()  # waiting on the live claim, not publishing
    publisher.release.set()
    first.join(10)
    second.join(10)
    assert sorted(r.replayed for r in results) == [False, True]
    assert len(publisher.sent) == 1


def test_an_event_recorded_with_the_earlier_json_body_hash_replays_and_still_conflicts() -> None:
    records = InMemoryIdempotencyRecords()
    ports = IngestPorts(publisher=InMemoryPublisher(), idempotency=Idempotency(records),
                        pseudonymiser=Pseudonymiser(b"k" * 32), agency_ids=agency_ids(POLICIES_DIR),
                        clock=lambda: NOW)
    event = example_event(NOW)
    recorded = validate_event(event, ports.agency_ids, NOW)
    records.insert_pending(IdempotencyRow(recorded["event_id"], json_body_hash(to_json(recorded)),
                                          "lancashire-police", PENDING, "t", 1000))  # as before 2026-12-02
    records.complete(recorded["event_id"], 2000)
    assert accept_event(event, "lancashire-police", ports).replayed
    with pytest.raises(IdConflict):
        accept_event({**event, "district": event["district"] + " North"}, "lancashire-police", ports)
    assert ports.publisher.sent == []  # type: ignore[attr-defined]
