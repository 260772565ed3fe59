"""The impact of a draft policy, before it goes live: the recorded decisions of a period (their policy facts,
kept on each DECISION audit entry, and their recorded outcome per recipient) decided again under the draft,
and every share gained or lost, per ISA and recipient, with example events and the reasons before and after.

Pure: the caller reads the ledger (`eahub policy impact`, in `hub/policy_cli.py`) or keeps a window of recent
decisions in memory (the router's hot reload). Only policy facts are replayed: no personal value is needed."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eahub.policy.bundle import BATCH_ENTRYPOINT, PolicyBundle

FACTS_KEY = "policy_facts"  # DECISION entry details key: canonical JSON of the policy input
EXAMPLES = 3


def facts_json(policy_input: dict[str, Any]) -> str:
    """The canonical form recorded on a DECISION entry: the event facts and the decision day, no override."""
    return json.dumps({"event": policy_input["event"], "today": policy_input["today"]},
                      sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class RecordedOutcome:
    agency: str
    shared: bool
    isa_id: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RecordedDecision:
    event_id: str
    facts: dict[str, Any]  # {"event": ..., "today": ...} as recorded
    outcomes: tuple[RecordedOutcome, ...]


@dataclass(frozen=True)
class Change:
    event_id: str
    agency: str
    gained: bool  # True: shared under the draft and not before; False: shared before, refused under the draft
    isa_before: str | None
    isa_after: str | None
    reasons_before: tuple[str, ...]
    reasons_after: tuple[str, ...]

    @property
    def isa(self) -> str:
        return (self.isa_after if self.gained else self.isa_before) or "(no ISA)"


@dataclass
class Impact:
    replayed: int = 0
    changes: list[Change] = field(default_factory=list)

    @property
    def gained(self) -> int:
        return sum(c.gained for c in self.changes)

    @property
    def lost(self) -> int:
        return sum(not c.gained for c in self.changes)

    def by_isa_and_recipient(self) -> dict[tuple[str, str], list[Change]]:
        out: dict[tuple[str, str], list[Change]] = defaultdict(list)
        for c in self.changes:
            out[(c.isa, c.agency)].append(c)
        return dict(sorted(out.items()))

    def counts(self) -> dict[str, str]:
        """For the POLICY_CHANGE audit entry: counts only, no event id."""
        return {"impact_replayed": str(self.replayed), "impact_shares_gained": str(self.gained),
                "impact_shares_lost": str(self.lost),
                "impact_recipients_changed": ",".join(sorted({c.agency for c in self.changes}))}

    def report(self) -> str:
        lines = [f"replayed {self.replayed} recorded decisions: {self.gained} shares gained, {self.lost} lost"]
        for (isa, agency), changes in self.by_isa_and_recipient().items():
            gained = [c for c in changes if c.gained]
            lost = [c for c in changes if not c.gained]
            lines.append(f"{isa} -> {agency}: +{len(gained)} gained, -{len(lost)} lost")
            for c in (gained[:EXAMPLES] + lost[:EXAMPLES]):
                lines.append(f"  {'+' if c.gained else '-'} event {c.event_id}")
                lines.append(f"      before: {'; '.join(c.reasons_before) or '(no reasons recorded)'}")
                lines.append(f"      after:  {'; '.join(c.reasons_after)}")
        return "\n".join(lines)


def decide_facts(bundle: PolicyBundle, facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The draft's decision documents for recorded facts (no override), in order, on the embedded engine."""
    if not facts:
        return []
    engine = bundle.engine()
    engine.set_input({"requests": [{"event": f["event"], "today": f["today"], "override": None} for f in facts]})
    documents = engine.eval_rule(BATCH_ENTRYPOINT)
    if not isinstance(documents, list) or len(documents) != len(facts):
        raise ValueError("the draft policy returned no decision for the batch")
    return documents


def replay(recorded: list[RecordedDecision], draft: PolicyBundle) -> Impact:
    impact = Impact(replayed=len(recorded))
    documents = decide_facts(draft, [r.facts for r in recorded])
    for rec, doc in zip(recorded, documents, strict=True):
        after = {r["agency"]: r for r in doc["recipients"]}
        before = {o.agency: o for o in rec.outcomes}
        for agency in sorted(set(after) | set(before)):
            b, a = before.get(agency), after.get(agency)
            was, now = bool(b and b.shared), bool(a and a["shared"])
            if was != now:
                impact.changes.append(Change(
                    event_id=rec.event_id, agency=agency, gained=now,
                    isa_before=b.isa_id if b else None, isa_after=a["isa_id"] if a else None,
                    reasons_before=b.reasons if b else (), reasons_after=tuple(a["reasons"]) if a else (),
                ))
    return impact


def from_ledger(documents: list[dict[str, Any]]) -> list[RecordedDecision]:
    """Recorded decisions from audit entry documents (DECISION, DISCLOSURE, REFUSAL, in ledger order): the
    latest decision per event that carries its policy facts, with the outcomes recorded under it."""
    outcomes: dict[str, list[RecordedOutcome]] = defaultdict(list)
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for doc in documents:
        if doc["kind"] in ("DISCLOSURE", "REFUSAL") and doc.get("decision_id") and doc.get("recipient"):
            outcomes[doc["decision_id"]].append(RecordedOutcome(
                doc["recipient"], doc["kind"] == "DISCLOSURE", doc.get("isa_id"), tuple(doc.get("reasons") or ())))
        elif doc["kind"] == "DECISION" and (doc.get("details") or {}).get(FACTS_KEY) and doc.get("event_id"):
            latest[doc["event_id"]] = (doc["decision_id"], json.loads(doc["details"][FACTS_KEY]))
    return [RecordedDecision(event_id, facts, tuple(outcomes.get(decision_id, ())))
            for event_id, (decision_id, facts) in latest.items()]
