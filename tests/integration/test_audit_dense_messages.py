"""The audit service reads the router's dense audit messages (`eahub.AuditEntries`: a decision and its
disclosures and refusals in one message) into exactly the ledger that one message per entry gives; a dense
message with one entry the ledger cannot hold is dead-lettered whole (nothing of it appended), and the rest of
the batch still goes in. Handled batch by batch against a real SQLite ledger, without a broker."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from confluent_kafka import Message

from eahub.audit.bootstrap import AuditParts
from eahub.audit.service import AuditService
from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import audit_entries_message, audit_message, entries_of
from eahub.core.messages import InMemoryPublisher, OutboundMessage
from eahub.core.settings import HubSettings
from tests.helpers import concern_event, initialised_audit
from tests.unit.test_audit_entries import T0, audit_entry

pytestmark = pytest.mark.integration


def _service(tmp_path: Path, name: str) -> tuple[AuditService, AuditParts, InMemoryPublisher]:
    parts = initialised_audit(HubSettings(data_dir=tmp_path / name))
    publisher = InMemoryPublisher()
    service = AuditService(consumer=None, publisher=publisher, store=parts.store,  # type: ignore[arg-type]
                           vault=parts.vault, checkpointer=parts.checkpointer, clock=lambda: T0)
    return service, parts, publisher


def _msgs(outbound: list[OutboundMessage]) -> list[Message]:
    return [Message(topic=m.topic, partition=0, offset=i, key=m.key, value=m.value, headers=m.headers)
            for i, m in enumerate(outbound)]


def _decided(i: int) -> list[dict]:
    """A DECISION entry and its four DISCLOSURE / REFUSAL entries, as the router makes them for one event."""
    kinds = ["DECISION", "DISCLOSURE", "REFUSAL", "REFUSAL", "DISCLOSURE"]
    return [audit_entry(5 * i + k, kind, event_id=f"event-{i}", subject_ref=f"subj-{i}")
            for k, kind in enumerate(kinds)]


def test_dense_messages_give_the_very_ledger_that_single_entry_messages_give(tmp_path: Path) -> None:
    events = [_decided(i) for i in range(4)]
    dense, dense_parts, _ = _service(tmp_path, "dense")
    single, single_parts, _ = _service(tmp_path, "single")
    dense.handle_batch(_msgs([audit_entries_message(e, "/test") for e in events]), threading.Event())
    single.handle_batch(_msgs([audit_message(x, "/test") for e in events for x in e]), threading.Event())
    rows = list(dense_parts.store.rows())
    assert len(rows) == 20 and rows == list(single_parts.store.rows())  # same ids, fields, order and hashes
    assert [entries_of(m.value) for m in [audit_entries_message(events[0], "/test")]] == [events[0]]


def test_a_dense_message_with_one_bad_entry_is_dead_lettered_whole_and_the_rest_appended(tmp_path: Path) -> None:
    good, bad = _decided(0), _decided(1)
    bad[3]["recipient"] = "x" * 10_000  # writable Avro, but no ledger column holds it
    empty = OutboundMessage(topics.AUDIT, b"k", avro_codec.encode(schemas.AUDIT_ENTRIES, {"entries": []}))
    service, parts, publisher = _service(tmp_path, "ledger")
    service.handle_batch(_msgs([audit_entries_message(bad, "/test"), empty, audit_entries_message(good, "/test")]),
                         threading.Event())
    assert [r.entry_id for r in parts.store.rows()] == [e["entry_id"] for e in good]
    dead = [avro_codec.decode(m.value, expected=schemas.DEAD_LETTER)[1] for m in publisher.on_topic(topics.DEADLETTER)]
    assert [(d["original_offset"], d["error_kind"]) for d in dead] == [(0, "SCHEMA_INVALID"), (1, "SCHEMA_INVALID")]
    assert "recipient" in dead[0]["error"] and "no entries" in dead[1]["error"]
    assert "x" * 100 not in dead[0]["error"]  # the reason names the field, never its value


def test_a_record_of_another_schema_on_the_audit_topic_is_undecodable_as_audit_entries() -> None:
    data = avro_codec.encode(schemas.CONCERN_EVENT, concern_event())
    with pytest.raises(avro_codec.UndecodableMessage, match=r"expected eahub\.AuditEntry or eahub\.AuditEntries"):
        entries_of(data)
