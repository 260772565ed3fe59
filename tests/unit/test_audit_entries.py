"""The canonical form of ledger entries; also the audit-entry factory the audit suites share."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from eahub.audit import entry_format
from eahub.core import avro_codec, ids, schemas
from eahub.core.audit_entries import entry_id

pytestmark = pytest.mark.unit

AGENCIES = [
    "lancashire-police",
    "lancashire-cc-childrens",
    "lancashire-cc-adults",
    "lscft-mental-health",
    "nwas",
]
T0 = datetime(2026, 5, 1, 15, 0, tzinfo=UTC)


def audit_entry(i: int, kind: str = "DISCLOSURE", **overrides: Any) -> dict[str, Any]:
    """A valid eahub.AuditEntry record (as fastavro decodes it); deterministic in i."""
    event_id = f"event-{i // 4}"
    recipient = AGENCIES[1 + i % 4]
    entry = {
        "entry_id": entry_id(kind, event_id, recipient, f"decision-{i}"),
        "kind": kind,
        "occurred_at": T0 + timedelta(minutes=i),
        "actor": "router",
        "event_id": event_id,
        "decision_id": f"decision-{i // 4}",
        "subject_ref": f"subj-{i % 50:032x}",
        "source_agency": AGENCIES[0],
        "recipient": recipient,
        "category": "MENTAL_HEALTH",
        "isa_id": f"isa-police-{recipient}",
        "isa_version": "1",
        "lawful_basis": "DPA 2018 s.35" if kind == "DISCLOSURE" else None,
        "purpose": "safeguarding",
        "policy_revision": "rev-1",
        "fields_shared": ["category", "district"],
        "fields_withheld": ["subject.nhs_number", "referrer"],
        "reasons": [f"reason {i}"],
        "case_id": ids.case_id(event_id, recipient, f"decision-{i}") if kind == "DISCLOSURE" else None,
        "details": {},
    }
    entry.update(overrides)
    return entry


def entries(n: int, seed: int = 7) -> list[dict[str, Any]]:
    kinds = ["DECISION", "DISCLOSURE", "REFUSAL", "CONSULTATION", "ACTION", "OVERRIDE"]
    rnd = random.Random(seed)
    return [audit_entry(i, rnd.choice(kinds)) for i in range(n)]


def test_the_factory_makes_schema_valid_records() -> None:
    for e in entries(30):
        assert avro_codec.decode(avro_codec.encode(schemas.AUDIT_ENTRY, e))[1]["entry_id"] == e["entry_id"]


def test_canonical_bytes_are_sorted_compact_json_with_position_and_utc_millis() -> None:
    doc = entry_format.canonical_document(audit_entry(1), 5, T0)
    data = entry_format.encode(doc)
    assert data.startswith(b'{"actor":"router","case_id":')
    assert b" " not in data.replace(b"reason 1", b"").replace(b"DPA 2018 s.35", b"")
    assert doc["ledger_seq"] == 5 and doc["occurred_at"] == "2026-05-01T15:01:00.000Z"
    assert entry_format.decode(data) == doc


def test_canonical_form_is_the_same_for_any_timezone_of_the_same_instant() -> None:
    from zoneinfo import ZoneInfo

    local = audit_entry(1, occurred_at=(T0 + timedelta(minutes=1)).astimezone(ZoneInfo("Europe/London")))
    assert entry_format.encode(entry_format.canonical_document(local, 0, T0)) == entry_format.encode(
        entry_format.canonical_document(audit_entry(1), 0, T0)
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("entry_id", "", "entry_id is required"),
        ("kind", "GOSSIP", "kind is not a known AuditKind"),
        ("occurred_at", datetime(2026, 1, 1), "timezone-aware"),
    ],
)
def test_bad_entries_are_refused_naming_the_field(field: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        entry_format.canonical_document(audit_entry(1, **{field: value}), 0, T0)
    with pytest.raises(ValueError, match=message):  # the audit service's check before a batch is appended
        entry_format.check(audit_entry(1, **{field: value}))


def test_an_entry_that_would_not_fit_the_ledger_is_refused_naming_the_field() -> None:
    """The audit service dead-letters such an entry (ValueError -> SCHEMA_INVALID) instead of stopping at the
    database: PostgreSQL enforces the indexed columns' lengths, SQLite does not."""
    from eahub.audit.entry_format import canonical_document, column_limits

    assert column_limits()["event_id"] == 80 and column_limits()["isa_id"] == 120
    entry = audit_entry(1, "ACTION", event_id="x" * 81)
    with pytest.raises(ValueError, match="event_id is longer than the ledger's 80 characters"):
        canonical_document(entry, 0, datetime.now(UTC))
    with pytest.raises(ValueError, match="event_id is longer than the ledger's 80 characters"):
        entry_format.check(entry)
