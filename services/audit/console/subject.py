"""Subject access: find the subject (pseudonym, NHS number, or name + date of birth, keyed server-side with the
hub's `Pseudonymiser`; the identifiers are never stored or logged), then everything the ledger holds about them
(`queries.sar`) as rows for the IG officer, and the report for the subject.

What the subject's report leaves out, and why: the disclosed payloads come from the vault and may hold other
people. `referrer` (the protected identity of whoever raised the concern), `linked_people` (other people),
`consent.recorded_by` (a member of staff) and free text (`narrative`, break-glass justifications, which may name
others) are removed before anything reaches the report; the report names organisations, never staff user ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eahub.audit import queries
from eahub.audit.store import LedgerStore
from eahub.audit.vault import Vault
from eahub.core.pseudonym import Pseudonymiser

# Removed from every disclosed payload before it reaches the subject's report.
THIRD_PARTY_FIELDS = ("referrer", "linked_people", "narrative")
WITHHELD_NOTE = ("the referrer's identity, other people and free text are not included: they may identify "
                 "someone else (DPA 2018 Sch 2 para 16); ask the IG officer if you need them reviewed")
JUSTIFICATION_PREFIX = "break-glass justification:"


class SubjectNotGiven(ValueError):
    pass


def resolve_subject(pseudonymiser: Pseudonymiser, subject_ref: str = "", nhs_number: str = "", name: str = "",
                    dob: str = "") -> str:
    """The subject's pseudonym from exactly one way of naming them. Errors never echo a value."""
    subject_ref, nhs_number, name, dob = (x.strip() for x in (subject_ref, nhs_number, name, dob))
    if subject_ref:
        if not subject_ref.startswith("subj-"):
            raise SubjectNotGiven("a subject reference starts with subj-")
        return subject_ref
    if nhs_number:
        digits = nhs_number.replace(" ", "")
        if not (digits.isdigit() and len(digits) == 10):
            raise SubjectNotGiven("an NHS number has 10 digits")
        return pseudonymiser.subject_ref({"subject": {"nhs_number": digits}})
    if name and dob:
        try:
            birth = date.fromisoformat(dob)
        except ValueError:
            raise SubjectNotGiven("the date of birth must be a date (YYYY-MM-DD)") from None
        return pseudonymiser.subject_ref({"subject": {"name": name, "date_of_birth": birth}})
    raise SubjectNotGiven("give an NHS number, or a name with a date of birth, or a subject reference")


def agency_of_actor(actor: str) -> str:
    """An actor as the subject may see it: the organisation, never a member of staff."""
    parts = actor.split(":")
    if parts[0] == "board" and len(parts) >= 2:
        return parts[1]
    if parts[0] == "ig":
        return "information governance"
    if parts[0] == "override":
        return "break-glass requester"
    return parts[0]


def public_reasons(reasons: list[str]) -> list[str]:
    return [r for r in reasons if not r.startswith(JUSTIFICATION_PREFIX)]


def strip_third_parties(concern: dict[str, Any] | None) -> dict[str, Any]:
    """A disclosed concern as the subject may see it (see the module doc)."""
    out = {k: v for k, v in (concern or {}).items() if k not in THIRD_PARTY_FIELDS and v is not None}
    consent = out.get("consent")
    if isinstance(consent, dict):
        out["consent"] = {k: v for k, v in consent.items() if k != "recorded_by"}
    return out


@dataclass
class SarView:
    subject_ref: str
    entries: list[dict[str, Any]]
    payloads: list[dict[str, Any]] = field(default_factory=list)
    erased: bool = False

    def count(self, kind: str) -> int:
        return sum(1 for e in self.entries if e["kind"] == kind)


def sar_view(store: LedgerStore, vault: Vault | None, subject_ref: str) -> SarView:
    report = queries.sar(store, vault, subject_ref)
    payloads = []
    for p in report.payloads:
        record = queries.jsonable(p.record) if p.record else None
        payloads.append({"case_id": p.case_id, "kind": p.kind, "recipient": p.recipient,
                         "stored_at_ms": p.stored_at_ms, "erased": p.erased,
                         "concern": strip_third_parties(record.get("concern")) if record else None,
                         "shared_fields": record.get("shared_fields", []) if record else [],
                         "reasons": public_reasons(record.get("reasons", [])) if record else []})
    return SarView(subject_ref, report.entries, payloads, report.erased)


def report_rows(view: SarView) -> list[dict[str, Any]]:
    """The rows of the subject's report: what was shared with whom and why, refusals included."""
    rows = []
    for e in view.entries:
        if e["kind"] == "DECISION":
            continue  # each decision appears as its disclosures and refusals
        rows.append({"when": e["occurred_at"], "kind": e["kind"], "by": agency_of_actor(e["actor"]),
                     "source": e.get("source_agency") or "", "recipient": e.get("recipient") or "",
                     "isa": f"{e['isa_id']} v{e.get('isa_version') or '?'}" if e.get("isa_id") else "",
                     "lawful_basis": e.get("lawful_basis") or "", "purpose": e.get("purpose") or "",
                     "shared": e.get("fields_shared") or [], "withheld": e.get("fields_withheld") or [],
                     "reasons": public_reasons(e.get("reasons") or [])})
    return rows
