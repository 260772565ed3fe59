"""IG console benchmark: over a ledger of N router and board entries, the seconds each console page's query
takes (all flow tables, the review queue with its findings, the Art 30 counts, one SAR). Prints min/median/max
of 3; run by hand:

    python bench/bench_console.py [--entries 100000] [--database-url URL]

Default database: a fresh SQLite file in a temporary directory (the embedded default)."""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eahub.audit.console import flows
from eahub.audit.console.art30 import records_of_processing
from eahub.audit.console.reviews import review_queue
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.subject import sar_view
from eahub.audit.settings import AuditSettings
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import ensure_schema
from eahub.core.audit_entries import audit_entry
from eahub.core.database import make_engine
from eahub.core.paths import POLICIES_DIR

AGENCIES = ["lancashire-cc-childrens", "lancashire-cc-adults", "lscft-mental-health", "nwas"]
T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def entry(i: int, subjects: int) -> dict[str, Any]:
    event, step = divmod(i, 6)
    recipient = AGENCIES[event % len(AGENCIES)]
    subject = f"subj-{event % subjects:032x}"
    case = f"case-{event}"
    at = T0 + timedelta(minutes=event * 7 + step)
    common = {"event_id": f"event-{event}", "subject_ref": subject, "source_agency": "lancashire-police",
              "recipient": recipient, "isa_id": "isa-lancs-adult-safeguarding", "isa_version": "2.1",
              "case_id": case}
    if step in (0, 1):
        kind = "DISCLOSURE" if step == 0 else "REFUSAL"
        return audit_entry(kind, id_facts=(str(i),), actor="router", occurred_at=at, reasons=["ISA covers it"],
                           **common)
    user = f"board:{recipient}:u-{event % 40}"
    if step in (2, 3, 4):
        rel = ("allocated", "team", "self-claimed")[step - 2]
        return audit_entry("CONSULTATION", id_facts=(str(i),), actor=user, occurred_at=at, purpose="allocated",
                           details={"board": recipient, "relationship": rel, "part": "concern"}, **common)
    return audit_entry("ACTION", id_facts=(str(i),), actor=user, occurred_at=at,
                       details={"board": recipient, "action": "acknowledge", "from": "ALLOCATED",
                                "to": "ACKNOWLEDGED"}, **common)


def timed(name: str, fn: Callable[[], object]) -> None:
    times = []
    for _ in range(3):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    print(f"{name:<22} min {min(times):.2f} s, median {statistics.median(times):.2f} s, max {max(times):.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="eahub-bench-console-"))
    engine = make_engine(args.database_url or f"sqlite:///{tmp / 'ledger.db'}")
    ensure_schema(engine)
    store = SqlLedgerStore(engine)
    subjects = max(1, args.entries // 30)
    for lo in range(0, args.entries, 1000):
        store.append([entry(i, subjects) for i in range(lo, min(args.entries, lo + 1000))], datetime.now(UTC))
    print(f"IG console benchmark: N = {store.size():,} entries on {engine.dialect.name}")
    settings = ConsoleSettings()
    timed("flows (6 tables)", lambda: flows.all_tables(store))
    timed("review queue", lambda: review_queue(store, None, settings))
    timed("records of processing", lambda: records_of_processing(POLICIES_DIR, store, AuditSettings()))
    timed("one SAR", lambda: sar_view(store, None, f"subj-{7:032x}"))


if __name__ == "__main__":
    main()
