"""Flows over the ledger: shares and refusals by ISA, by source -> recipient pair and by ISO week; refusal
reasons grouped; SLA performance per board (time to acknowledge and breaches, from board ACTION entries:
`details.action` = `acknowledge` or `sla_breach`, timed from the case's DISCLOSURE); dead letters and spoof
attempts by source (the router's `inbound-refused` and `event-id-reused` entries, by the inbound topic's agency).
Each result is a `Table` (columns + rows) that renders as HTML, SVG and CSV; the entries are read once per page
(`load`) and every table is computed from them."""

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


Docs = list[dict[str, Any]]
LOADED_KINDS = ("DISCLOSURE", "REFUSAL", "ACTION")


def load(store: LedgerStore) -> Docs:
    """The entries every table is computed from, read once per page."""
    return [r.document() for r in store.find(EntryFilter(kinds=LOADED_KINDS))]


def _docs(docs: Docs, kinds: tuple[str, ...]) -> Docs:
    return [d for d in docs if d["kind"] in kinds]


def _week(doc: dict[str, Any]) -> str:
    year, week, _ = entry_format.parse_iso(doc["occurred_at"]).isocalendar()
    return f"{year}-W{week:02d}"


def _shares_by(docs: list[dict[str, Any]], key: Any) -> list[tuple[Any, ...]]:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in docs:
        counts[key(d)][d["kind"]] += 1
    return [(k, c["DISCLOSURE"], c["REFUSAL"]) for k, c in sorted(counts.items())]


def shares_by_isa(docs: Docs) -> Table:
    shares = _docs(docs, ("DISCLOSURE", "REFUSAL"))
    return Table("by-isa", "Shares and refusals by agreement", ("ISA", "shared", "refused"),
                 _shares_by([d for d in shares if not d["actor"].startswith("board:")],
                            lambda d: d.get("isa_id") or "(no agreement)"))


def shares_by_pair(docs: Docs) -> Table:
    shares = [d for d in _docs(docs, ("DISCLOSURE", "REFUSAL")) if not d["actor"].startswith("board:")]
    return Table("by-pair", "Shares and refusals by source and recipient", ("source -> recipient", "shared",
                 "refused"), _shares_by(shares, lambda d: f"{d.get('source_agency')} -> {d.get('recipient')}"))


def shares_by_week(docs: Docs) -> Table:
    shares = [d for d in _docs(docs, ("DISCLOSURE", "REFUSAL")) if not d["actor"].startswith("board:")]
    return Table("by-week", "Shares and refusals by week", ("week", "shared", "refused"), _shares_by(shares, _week))


def refusal_reasons(docs: Docs) -> Table:
    counts: Counter[str] = Counter()
    for d in _docs(docs, ("REFUSAL",)):
        for reason in d.get("reasons") or ["(no reason recorded)"]:
            counts[reason] += 1
    return Table("refusal-reasons", "Refusal reasons", ("reason", "refusals"), sorted(counts.items(),
                 key=lambda kv: (-kv[1], kv[0])))


def sla_by_board(docs: Docs) -> Table:
    shared_at = {d["case_id"]: entry_format.parse_iso(d["occurred_at"])
                 for d in _docs(docs, ("DISCLOSURE",)) if d.get("case_id") and not d["actor"].startswith("board:")}
    acks: dict[str, list[float]] = defaultdict(list)
    breaches: Counter[str] = Counter()
    for d in _docs(docs, ("ACTION",)):
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
    """The router records every message it dead-letters as an ACTION `inbound-refused` (naming the dead-letter
    kind; SOURCE_MISMATCH is a spoof) and an event id reused with other content as `event-id-reused`."""
    action = d["details"].get("action", "")
    if action == "inbound-refused":
        return "spoof attempt" if d["details"].get("dead_letter_kind") == "SOURCE_MISMATCH" else "dead letter"
    if action == "event-id-reused":
        return "dead letter"
    return None


def problems_by_source(docs: Docs) -> Table:
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for d in _docs(docs, ("ACTION", "REFUSAL")):
        if d["actor"].startswith(("board:", "ig:")):
            continue
        kind = _problem_kind(d)
        if kind:
            counts[d.get("source_agency") or "(unknown)"][kind] += 1
    return Table("problems", "Dead letters and spoof attempts by source", ("source", "dead letters",
                 "spoof attempts"), [(s, c["dead letter"], c["spoof attempt"]) for s, c in sorted(counts.items())])


TABLES = {"by-isa": shares_by_isa, "by-pair": shares_by_pair, "by-week": shares_by_week,
          "refusal-reasons": refusal_reasons, "sla": sla_by_board, "problems": problems_by_source}


def all_tables(store: LedgerStore) -> list[Table]:
    docs = load(store)
    return [f(docs) for f in TABLES.values()]


def table(store: LedgerStore, name: str) -> Table | None:
    make = TABLES.get(name)
    return None if make is None else make(load(store))
