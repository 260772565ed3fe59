"""Bigger chaos runs than CI's, printing the figures: the hub's services as separate processes on the embedded
broker, events over HTTP and Kafka, router/audit/ingest SIGKILLed at random points and restarted, the broker
stopped and started between phases, poison messages and reused event ids (tests/support/chaos_run.py).

    .venv/bin/python bench/chaos.py --events 3000 --phases 3 --kills router,router,audit,ingest
    .venv/bin/python bench/chaos.py --postgres postgresql://postgres@127.0.0.1:5432/test   # ledger on PostgreSQL,
                                                                   # its connections cut during the feed"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.chaos_run import ChaosPlan, main_figures, run_chaos


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--poison", type=int, default=1000)
    parser.add_argument("--phases", type=int, default=3)
    parser.add_argument("--kills", default="router,audit,router,ingest")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--postgres", default=None, help="an admin URL: the ledger goes to a fresh database there")
    args = parser.parse_args()
    plan = ChaosPlan(events=args.events, poison=args.poison, phases=args.phases, seed=args.seed,
                     kills=tuple(k for k in args.kills.split(",") if k), settle_timeout_s=600,
                     postgres_admin_url=args.postgres)
    with tempfile.TemporaryDirectory() as tmp:
        report = run_chaos(Path(tmp), plan)
    print(main_figures(report))
    ok = (report.lost == 0 and report.duplicate_entries == 0 and report.cases_without_disclosure == 0
          and report.payload_mismatches == 0 and report.disclosures_without_case == 0 and report.verify_ok
          and report.poison_dead_lettered == report.poison_sent and report.reused_refused == report.reused_sent)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
