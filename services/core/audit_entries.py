"""The one builder of audit-trail entries (`eahub.AuditEntry` records) and the one rule for their ids, for every
service that records something: the router (decisions, disclosures, refusals, overrides), the audit service
(IG reviews, erasures) and the boards (views and actions).

The id rule: an entry's id is a name-based UUID of its kind and of the facts that make it that entry (for a
disclosure: event, recipient, decision). A replay of the same work yields the same id, so the ledger keeps it
once; two different acts (two override requests, two erasure requests) carry their own request id among the
facts, so neither is lost. Entries hold no personal data: subjects appear only as keyed pseudonyms.

On `eahub.audit` a message holds one entry (`eahub.AuditEntry`) or several made together (`eahub.AuditEntries`:
the router's entries for one decided event, about 5, in one message rather than 5); `entries_of` reads either."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from eahub.core import avro_codec, cloudevents, ids, schemas, topics
from eahub.core.messages import OutboundMessage

_EMPTY: dict[str, Any] = {
    "event_id": None, "decision_id": None, "subject_ref": None, "source_agency": None, "recipient": None,
    "category": None, "isa_id": None, "isa_version": None, "lawful_basis": None, "purpose": None,
    "policy_revision": None, "fields_shared": [], "fields_withheld": [], "reasons": [], "case_id": None,
    "details": {},
}
_FIELDS = frozenset(_EMPTY)


def entry_id(kind: str, *facts: str) -> str:
    """The id of the entry of `kind` that `facts` identify (deterministic)."""
    return ids.derive("audit", kind, *facts)


def audit_entry(kind: str, *, id_facts: Sequence[str], actor: str, occurred_at: datetime,
                **fields: Any) -> dict[str, Any]:
    """An AuditEntry record: every optional field empty unless given; `details` values must be strings."""
    return _entry(entry_id(kind, *id_facts), kind, actor, occurred_at, fields)


def recorded_entry(entry_id_: str, kind: str, *, actor: str, occurred_at: datetime, **fields: Any) -> dict[str, Any]:
    """An AuditEntry record for an act whose id was already derived by `entry_id` where it happened (a board's
    activity record carries it), so the ledger entry keeps that id."""
    return _entry(entry_id_, kind, actor, occurred_at, fields)


def _entry(entry_id_: str, kind: str, actor: str, occurred_at: datetime, fields: dict[str, Any]) -> dict[str, Any]:
    if not _FIELDS.issuperset(fields):
        raise TypeError(f"not AuditEntry fields: {', '.join(sorted(fields.keys() - _FIELDS))}")
    entry: dict[str, Any] = {"entry_id": entry_id_, "kind": kind, "occurred_at": occurred_at, "actor": actor,
                             **_EMPTY, "fields_shared": [], "fields_withheld": [], "reasons": [], "details": {}}
    entry.update(fields)
    return entry


def audit_message(entry: dict[str, Any], source: str, key: str | None = None) -> OutboundMessage:
    """The entry as a message on `eahub.audit`: keyed by its subject (so one person's entries keep their order)
    unless `key` is given, Avro single-object encoded, with CloudEvents headers."""
    headers = cloudevents.headers(ce_id=entry["entry_id"], source=source,
                                  ce_type=f"uk.gov.eahub.audit.{entry['kind'].lower()}.v1",
                                  subject=entry["subject_ref"], time=entry["occurred_at"])
    partition_key = (key or entry["subject_ref"] or "hub").encode()
    # Built by the hub itself from checked data: the writer alone still refuses a value it cannot write.
    return OutboundMessage(topics.AUDIT, partition_key, avro_codec.encode(schemas.AUDIT_ENTRY, entry, check=False),
                           headers)


def audit_entries_message(entries: Sequence[dict[str, Any]], source: str) -> OutboundMessage:
    """Several entries made together about one subject (a decision and its disclosures and refusals) as one
    `eahub.AuditEntries` message, keyed and headed as its first entry would be alone."""
    if not entries:
        raise ValueError("an AuditEntries message needs at least one entry")
    first = entries[0]
    headers = cloudevents.headers(ce_id=first["entry_id"], source=source, ce_type="uk.gov.eahub.audit.entries.v1",
                                  subject=first["subject_ref"], time=first["occurred_at"])
    return OutboundMessage(topics.AUDIT, (first["subject_ref"] or "hub").encode(),
                           avro_codec.encode(schemas.AUDIT_ENTRIES, {"entries": list(entries)}, check=False), headers)


def entries_of(data: bytes | None) -> list[dict[str, Any]]:
    """The entries of one message on `eahub.audit`, in order: one (`eahub.AuditEntry`) or several
    (`eahub.AuditEntries`). Raises UndecodableMessage for anything else, SchemaInvalid for an empty list."""
    name, record = avro_codec.decode(data)
    if name == schemas.AUDIT_ENTRY:
        return [record]
    if name != schemas.AUDIT_ENTRIES:
        raise avro_codec.UndecodableMessage(f"expected {schemas.AUDIT_ENTRY} or {schemas.AUDIT_ENTRIES}, got {name}")
    if not record["entries"]:
        raise avro_codec.SchemaInvalid(f"{schemas.AUDIT_ENTRIES} with no entries")
    return cast(list[dict[str, Any]], record["entries"])
