"""The canonical bytes of a ledger entry: what is hashed into the Merkle tree and kept in the ledger.

An entry is an `eahub.AuditEntry` record (no personal data: subjects are keyed pseudonyms) plus its
ledger position and time, serialised as UTF-8 JSON with sorted keys and no spaces. Times are ISO 8601
UTC with milliseconds. Because the position is inside the hashed bytes, moving an entry changes its hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from eahub.core import schemas

SEQ = "ledger_seq"
RECORDED_AT = "ledger_recorded_at"
KINDS = (
    "COLLECTION",
    "DECISION",
    "DISCLOSURE",
    "REFUSAL",
    "CONSULTATION",
    "ACTION",
    "OVERRIDE",
    "ERASURE",
    "POLICY_CHANGE",
)
_LIST_FIELDS = ("fields_shared", "fields_withheld", "reasons")


@cache
def entry_fields() -> tuple[str, ...]:
    return tuple(f["name"] for f in schemas.load(schemas.AUDIT_ENTRY).raw["fields"])


@cache
def column_limits() -> dict[str, int]:
    """The ledger's indexed text columns and their lengths: an entry that would not fit is refused as a whole
    (and dead-lettered by the service) rather than stopping the service at the database."""
    from sqlalchemy import String

    from eahub.audit.tables import ledger

    return {c.name: int(c.type.length) for c in ledger.columns if isinstance(c.type, String) and c.type.length}


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def canonical_document(entry: dict[str, Any], seq: int, recorded_at: datetime) -> dict[str, Any]:
    """The JSON document of one ledger entry. Raises ValueError naming a missing or wrong field."""
    doc: dict[str, Any] = {}
    for name in entry_fields():
        value = entry.get(name)
        if name in ("entry_id", "actor") and not value:
            raise ValueError(f"audit entry field {name} is required")
        if name == "kind" and value not in KINDS:
            raise ValueError("audit entry field kind is not a known AuditKind")
        if name == "occurred_at":
            if not isinstance(value, datetime):
                raise ValueError("audit entry field occurred_at must be a timezone-aware datetime")
            value = iso(value)
        elif name in _LIST_FIELDS:
            value = list(value or [])
        elif name == "details":
            value = dict(value or {})
        limit = column_limits().get(name)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise ValueError(f"audit entry field {name} is longer than the ledger's {limit} characters")
        doc[name] = value
    doc[SEQ] = seq
    doc[RECORDED_AT] = iso(recorded_at)
    return doc


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(data: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(data)
    return doc
