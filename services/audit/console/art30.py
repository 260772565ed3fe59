"""Records of processing (UK GDPR Art 30 / DPA 2018 s.61), generated from `policies/data` (agencies and ISAs:
parties, purposes, categories of data, recipients and the fields each receives, lawful bases, Art 9 conditions,
validity) with the vault's retention settings and the live counts of shares and refusals under each ISA."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from eahub.audit.settings import AuditSettings
from eahub.audit.store import EntryFilter, LedgerStore


def records_of_processing(policies_dir: Path, store: LedgerStore, audit: AuditSettings) -> list[dict[str, Any]]:
    data = policies_dir / "data"
    names = {a["id"]: a.get("name", a["id"]) for a in json.loads((data / "agencies.json").read_text())["agencies"]}
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in store.find(EntryFilter(kinds=("DISCLOSURE", "REFUSAL"))):
        doc = r.document()
        if not doc["actor"].startswith("board:"):
            counts[(doc.get("isa_id") or "", doc.get("isa_version") or "", doc["kind"])] += 1
    out = []
    for isa in json.loads((data / "isas.json").read_text())["isas"]:
        out.append({
            "id": isa["id"], "version": isa["version"], "title": isa.get("title", isa["id"]),
            "controllers": [names.get(p, p) for p in isa.get("parties", [])],
            "purposes": isa.get("purposes", []),
            "data_categories": isa.get("categories", []),
            "recipients": [{"agency": names.get(a, a), "fields": spec.get("fields", [])}
                           for a, spec in sorted(isa.get("recipients", {}).items())],
            "lawful_bases": isa.get("lawful_basis", {}),
            "art9_conditions": isa.get("art9_conditions", {}),
            "valid": f"{isa.get('valid_from', '?')} to {isa.get('valid_to', '?')}",
            "retention": (f"disclosed payloads {audit.retention_days_disclosure} days, break-glass payloads "
                          f"{audit.retention_days_override} days; the ledger (pseudonymous, no personal data) is kept"),
            "shares": counts[(isa["id"], isa["version"], "DISCLOSURE")],
            "refusals": counts[(isa["id"], isa["version"], "REFUSAL")],
        })
    return out
