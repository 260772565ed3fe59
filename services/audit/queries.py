"""Governance queries over the ledger (CLI today, the IG web console later): an event's trail, a subject
access request, shares under an ISA, between two agencies, refusals, overrides awaiting review, a time
range. Results are the hashed ledger documents themselves (dicts), in ledger order."""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from eahub.audit import entry_format
from eahub.audit.store import EntryFilter, LedgerStore
from eahub.audit.vault import Vault, VaultPayload

# An OVERRIDE entry leaves the IG review queue when an ACTION entry names it in details["reviewed_entry_id"].
REVIEWED_ENTRY = "reviewed_entry_id"
SAR_KINDS = tuple(k for k in entry_format.KINDS if k != "POLICY_CHANGE")  # everything about a person


def query(store: LedgerStore, flt: EntryFilter) -> list[dict[str, Any]]:
    return [row.document() for row in store.find(flt)]


def trail(store: LedgerStore, event_id: str) -> list[dict[str, Any]]:
    """Decision, disclosures, refusals, overrides and later views/actions of one event."""
    return query(store, EntryFilter(event_id=event_id))


def by_isa(
    store: LedgerStore, isa_id: str, since_ms: int | None = None, until_ms: int | None = None
) -> list[dict[str, Any]]:
    return query(store, EntryFilter(isa_id=isa_id, since_ms=since_ms, until_ms=until_ms))


def by_pair(
    store: LedgerStore,
    from_agency: str,
    to_agency: str,
    since_ms: int | None = None,
    until_ms: int | None = None,
) -> list[dict[str, Any]]:
    return query(
        store,
        EntryFilter(source_agency=from_agency, recipient=to_agency, since_ms=since_ms, until_ms=until_ms),
    )


def refusals(store: LedgerStore, since_ms: int | None = None, until_ms: int | None = None) -> list[dict[str, Any]]:
    return query(store, EntryFilter(kinds=("REFUSAL",), since_ms=since_ms, until_ms=until_ms))


def between(store: LedgerStore, since_ms: int | None, until_ms: int | None) -> list[dict[str, Any]]:
    return query(store, EntryFilter(since_ms=since_ms, until_ms=until_ms))


def overrides_pending(store: LedgerStore, flt: EntryFilter | None = None) -> list[dict[str, Any]]:
    """OVERRIDE entries (optionally narrowed by `flt`) that no ACTION entry has reviewed yet."""
    base = flt.__dict__ if flt is not None else {}
    overrides = query(store, EntryFilter(**{**base, "kinds": ("OVERRIDE",)}))
    reviewed = {a["details"].get(REVIEWED_ENTRY) for a in query(store, EntryFilter(kinds=("ACTION",)))}
    return [o for o in overrides if o["entry_id"] not in reviewed]


@dataclass
class SubjectAccessReport:
    subject_ref: str
    entries: list[dict[str, Any]]
    payloads: list[VaultPayload] = field(default_factory=list)

    @property
    def erased(self) -> bool:
        return any(e["kind"] == "ERASURE" for e in self.entries)

    def to_json(self) -> dict[str, Any]:
        return {
            "subject_ref": self.subject_ref,
            "erased": self.erased,
            "entries": self.entries,
            "payloads": [
                {
                    "case_id": p.case_id,
                    "kind": p.kind,
                    "event_id": p.event_id,
                    "recipient": p.recipient,
                    "stored_at_ms": p.stored_at_ms,
                    "expires_at_ms": p.expires_at_ms,
                    "erased": p.erased,
                    "disclosed": jsonable(p.record),
                }
                for p in self.payloads
            ],
        }


def sar(store: LedgerStore, vault: Vault | None, subject_ref: str) -> SubjectAccessReport:
    entries = query(store, EntryFilter(subject_ref=subject_ref, kinds=SAR_KINDS))
    return SubjectAccessReport(subject_ref, entries, vault.payloads(subject_ref) if vault else [])


CSV_COLUMNS = [entry_format.SEQ, *entry_format.entry_fields(), entry_format.RECORDED_AT]


def to_csv(docs: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for doc in docs:
        writer.writerow({k: _cell(doc.get(k)) for k in CSV_COLUMNS})
    return buf.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ";".join(value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, datetime):
        return entry_format.iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value
