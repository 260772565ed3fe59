"""Board web benchmark: the queue page (GET /, full HTML) and its polled fragment (GET /queue/rows) with 10,000
open cases on one board, rendered by the real app over SQLite through FastAPI's TestClient. Prints min / median
/ max of 3 runs in ms; asserts nothing about speed.

    .venv/bin/python bench/bench_board_web.py [--cases 10000]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.board_support import ADULTS, routed_case
from tests.web.board_rig import make_web_rig


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rig = make_web_rig(Path(tmp))
        started = time.perf_counter()
        for i in range(args.cases):
            rig.board.store_case(routed_case(recipient=ADULTS, subject_ref=f"subj-{i}"))
        print(f"stored {args.cases} cases in {time.perf_counter() - started:.1f} s (setup)")
        with rig.client(ADULTS) as c:
            for url in ("/", "/queue/rows"):
                times = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    r = c.get(url, headers={"accept": "text/html"})
                    times.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200
                print(f"GET {url:12} {args.cases} open cases, {len(r.content) / 1e6:.1f} MB: "
                      f"min {min(times):.0f} ms, median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")


if __name__ == "__main__":
    main()
