"""BoardActivity records: they fit their schema, hold no personal data, and become AuditEntry records the
ledger accepts (same kind, same id)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eahub.audit import entry_format
from eahub.audit.board_activity import to_ledger_entry
from eahub.board import activity
from eahub.core import avro_codec, schemas

pytestmark = pytest.mark.unit
CASE = {"case_id": "c-1", "event_id": "e-1", "subject_ref": "subj-1", "isa_id": "isa-1",
        "source_agency": "lancashire-police"}
NOW = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def _consultation() -> dict[str, object]:
    return activity.record(activity.CONSULTATION, occurred_at=NOW, actor="board:lancashire-cc-adults:u1",
                           agency="lancashire-cc-adults", id_parts=("c-1", "u1", "s", "concern", "1"), case=CASE,
                           role="member", session_ref="sha256:abc", part="concern", purpose="supervision",
                           relationship="supervision", outcome="shown", details={"allocated_to_actor": "false"})


def test_ids_are_deterministic_and_records_fit_the_schema() -> None:
    a, b = _consultation(), _consultation()
    assert a["activity_id"] == b["activity_id"]
    name, decoded = avro_codec.decode(avro_codec.encode(schemas.BOARD_ACTIVITY, a))
    assert name == schemas.BOARD_ACTIVITY and decoded["part"] == "concern"
    message = activity.to_message(a)
    assert message.topic == "eahub.board-activity" and message.key == b"subj-1"
    assert dict(message.headers)["ce_id"] == str(a["activity_id"]).encode()
    assert activity.from_json(activity.to_json(a)) == a


def test_consultation_becomes_a_ledger_entry() -> None:
    entry = to_ledger_entry(_consultation())
    assert entry["kind"] == "CONSULTATION" and entry["entry_id"] == _consultation()["activity_id"]
    assert entry["recipient"] == "lancashire-cc-adults" and entry["case_id"] == "c-1"
    assert entry["reasons"] == ["viewed concern for supervision"]
    assert entry["details"]["session_ref"] == "sha256:abc" and entry["details"]["relationship"] == "supervision"
    avro_codec.encode(schemas.AUDIT_ENTRY, entry)
    entry_format.canonical_document(entry, 0, NOW)


def test_action_and_erasure_entries() -> None:
    action = activity.record(activity.ACTION, occurred_at=NOW, actor="board:x:u1", agency="x", id_parts=("1",),
                             case=CASE, action="claim", from_state="NEW", to_state="ALLOCATED", outcome="changed")
    entry = to_ledger_entry(action)
    assert entry["reasons"] == ["claim (NEW -> ALLOCATED)"]
    assert (entry["details"]["from"], entry["details"]["to"]) == ("NEW", "ALLOCATED")
    erasure = activity.record(activity.ERASURE, occurred_at=NOW, actor="audit:ig", agency="x", id_parts=("2",),
                              case=CASE, part="personal-content", outcome="erased")
    assert to_ledger_entry(erasure)["reasons"] == ["erased personal-content"]
