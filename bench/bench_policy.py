"""Policy engine throughput: events decided per second by the embedded regorus engine and by OPA's own
evaluator embedded (opa-embedded), one at a time and in batches, and through the decision cache (hit ratio
printed). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_policy.py [--events N]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

from eahub.core.paths import POLICIES_DIR
from eahub.policy.bundle import PolicyBundle
from eahub.policy.cache import CachingEngine
from eahub.policy.model import PolicyRequest
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.regorus_engine import RegorusEngine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the scenario table lives in tests/
from tests.scenarios.cases import CASES


def requests(n: int) -> list[PolicyRequest]:
    out = []
    for i in range(n):
        case = CASES[i % len(CASES)]
        out.append(PolicyRequest(event={**case.event, "event_id": f"bench-{i}"}, today=date(2026, 6, 1)))
    return out


def rate(engine: RegorusEngine | OpaEmbeddedEngine | CachingEngine, reqs: list[PolicyRequest], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(reqs), batch):
        engine.decide(reqs[i : i + batch])
    return len(reqs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    n = parser.parse_args().events
    bundle = PolicyBundle.load(POLICIES_DIR)
    reqs = requests(n)
    engine = RegorusEngine(bundle)
    for batch in (1, 10, 100):
        print(f"regorus, batch {batch:>3}: {rate(engine, reqs, batch):10.0f} events/s")
    opa = OpaEmbeddedEngine(bundle)
    for batch in (1, 10, 100):
        print(f"opa-embedded, batch {batch:>3}: {rate(opa, reqs, batch):10.0f} events/s")
    cached = CachingEngine(RegorusEngine(bundle))
    print(f"cached,  batch 100: {rate(cached, reqs, 100):10.0f} events/s  "
          f"(hit ratio {cached.hit_ratio:.3f}; {len(CASES)} distinct policy inputs)")


if __name__ == "__main__":
    main()
