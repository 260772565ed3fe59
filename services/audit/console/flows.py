"""Flows over the ledger: shares and refusals by ISA, by source -> recipient pair and by ISO week; refusal
reasons grouped; SLA performance per board (time to acknowledge and breaches, from board ACTION entries:
`details.action` = `acknowledge` or `sla_breach`, timed from the case's DISCLOSURE); dead letters and spoof
attempts by source (router entries whose `details.action`/`refusal`/reasons name a spoof or a dead letter).
Each result is a `Table` (columns + rows) that renders as HTML, SVG and CSV."""

from __future__ import annotations

import csv
import io
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from eahub.audit import entry_format
from eahub.audit.store import EntryFilter, LedgerStore


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        w.writerows(self.rows)
        return buf.getvalue()


def _docs(store: LedgerStore, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    return [r.document() for r in store.find(EntryFilter(kinds=kinds))]


def _week(doc: dict[str, Any]) -> str:
    year, week, _ = entry_format.parse_iso(doc["occurred_at"]).isocalendar()
    return f"{year}-W{week:02d}"


def _shares_by(docs: list[dict[str, Any]], key: Any) -> list[tuple[Any, ...]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        counts[key(d)][d["kind"]] += 1
    return [(k, c["DISCLOSURE"], c["REFUSAL"]) for k, c in sorted(counts.items())]


def shares_by_isa(store: LedgerStore) -> Table:
    docs = _docs(store, ("DISCLOSURE", "REFUSAL"))
    return Table("by-isa", "Shares and refusals by agreement", ("ISA", "shared", "refused"),
                 _shares_by([d for d in docs if not d["actor"].startswith("board:")],
                            lambda d: d.get("isa_id") or "(no agreement)"))


def shares_by_pair(store: LedgerStore) -> Table:
    docs = [d for d in _docs(store, ("DISCLOSURE", "REFUSAL")) if not d["actor"].startswith("board:")]
    return Table("by-pair", "Shares and refusals by source and recipient", ("source -> recipient", "shared",
                 "refused"), _shares_by(docs, lambda d: f"{d.get('source_agency')} -> {d.get('recipient')}"))


def shares_by_week(store: LedgerStore) -> Table:
    docs = [d for d in _docs(store, ("DISCLOSURE", "REFUSAL")) if not d["actor"].startswith("board:")]
    return Table("by-week", "Shares and refusals by week", ("week", "shared", "refused"), _shares_by(docs, _week))


def refusal_reasons(store: LedgerStore) -> Table:
    counts: Counter[str] = Counter()
    for d in _docs(store, ("REFUSAL",)):
        for reason in d.get("reasons") or ["(no reason recorded)"]:
            counts[reason] += 1
    return Table("refusal-reasons", "Refusal reasons", ("reason", "refusals"), sorted(counts.items(),
                 key=lambda kv: (-kv[1], kv[0])))


def sla_by_board(store: LedgerStore) -> Table:
    shared_at = {d["case_id"]: entry_format.parse_iso(d["occurred_at"])
                 for d in _docs(store, ("DISCLOSURE",)) if d.get("case_id") and not d["actor"].startswith("board:")}
    acks: dict[str, list[float]] = defaultdict(list)
    breaches: Counter[str] = Counter()
    for d in _docs(store, ("ACTION",)):
        if not d["actor"].startswith("board:"):
            continue
        board = d["details"].get("board") or d.get("recipient") or "?"
        action = d["details"].get("action", "")
        if action == "acknowledge" and d.get("case_id") in shared_at:
            acks[board].append((entry_format.parse_iso(d["occurred_at"]) - shared_at[d["case_id"]]).total_seconds())
        elif action.startswith("sla_breach"):
            breaches[board] += 1
    rows = []
    for board in sorted(set(acks) | set(breaches)):
        times = acks.get(board, [])
        rows.append((board, len(times), round(statistics.median(times) / 60, 1) if times else "",
                     round(max(times) / 60, 1) if times else "", breaches[board]))
    return Table("sla", "Response times by board", ("board", "acknowledged", "median minutes to acknowledge",
                 "longest minutes to acknowledge", "SLA breaches"), rows)


def _problem_kind(d: dict[str, Any]) -> str | None:
    text = " ".join([d["details"].get("action", ""), d["details"].get("refusal", ""), *(d.get("reasons") or [])])
    text = text.lower()
    if "spoof" in text or "source-mismatch" in text or "source mismatch" in text:
        return "spoof attempt"
    if "dead-letter" in text or "dead letter" in text:
        return "dead letter"
    return None


def problems_by_source(store: LedgerStore) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in _docs(store, ("ACTION", "REFUSAL")):
        if d["actor"].startswith(("board:", "ig:")):
            continue
        kind = _problem_kind(d)
        if kind:
            counts[d.get("source_agency") or d["details"].get("claimed_source") or "(unknown)"][kind] += 1
    return Table("problems", "Dead letters and spoof attempts by source", ("source", "dead letters",
                 "spoof attempts"), [(s, c["dead letter"], c["spoof attempt"]) for s, c in sorted(counts.items())])


TABLES = {"by-isa": shares_by_isa, "by-pair": shares_by_pair, "by-week": shares_by_week,
          "refusal-reasons": refusal_reasons, "sla": sla_by_board, "problems": problems_by_source}


def all_tables(store: LedgerStore) -> list[Table]:
    return [f(store) for f in TABLES.values()]
