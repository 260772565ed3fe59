"""The canonical bytes of a ledger entry: what is hashed into the Merkle tree and kept in the ledger.

An entry is an `eahub.AuditEntry` record (no personal data: subjects are keyed pseudonyms) plus its
ledger position and time, serialised as UTF-8 JSON with sorted keys and no spaces. Times are ISO 8601
UTC with milliseconds. Because the position is inside the hashed bytes, moving an entry changes its hash."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache, lru_cache
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


@lru_cache(maxsize=4096)  # an event's entries share their time, a batch its recording time
def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def to_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def check(entry: dict[str, Any]) -> None:
    """Raise ValueError naming a missing or wrong field of the entry, as `canonical_document` would, without
    building the document: the audit service's check of each message before its batch is appended."""
    for name, rule, limit in _field_rules():
        value = entry.get(name)
        if rule is _REQUIRED and not value:
            raise ValueError(f"audit entry field {name} is required")
        if rule is _KIND and value not in KINDS:
            raise ValueError("audit entry field kind is not a known AuditKind")
        if rule is _TIME and not (isinstance(value, datetime) and value.tzinfo is not None):
            raise ValueError("audit entry field occurred_at must be a timezone-aware datetime")
        if limit and isinstance(value, str) and len(value) > limit:
            raise ValueError(f"audit entry field {name} is longer than the ledger's {limit} characters")


def canonical_document(entry: dict[str, Any], seq: int, recorded_at: datetime) -> dict[str, Any]:
    """The JSON document of one ledger entry. Raises ValueError naming a missing or wrong field (`check`)."""
    check(entry)
    doc: dict[str, Any] = {}
    for name, rule, _ in _field_rules():
        value = entry.get(name)
        if rule is _TIME:
            value = iso(value)
        elif rule is _LIST:
            value = list(value or [])
        elif rule is _MAP:
            value = dict(value or {})
        doc[name] = value
    doc[SEQ] = seq
    doc[RECORDED_AT] = iso(recorded_at)
    return doc


_PLAIN, _REQUIRED, _KIND, _TIME, _LIST, _MAP = "plain", "required", "kind", "time", "list", "map"


@cache
def _field_rules() -> tuple[tuple[str, str, int], ...]:
    """(field, how it is checked and converted, its column's length or 0), in schema order: worked out once."""
    rules = {"entry_id": _REQUIRED, "actor": _REQUIRED, "kind": _KIND, "occurred_at": _TIME, "details": _MAP,
             **dict.fromkeys(_LIST_FIELDS, _LIST)}
    return tuple((name, rules.get(name, _PLAIN), column_limits().get(name, 0)) for name in entry_fields())


def encode(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def decode(data: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(data)
    return doc
