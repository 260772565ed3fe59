"""Policy engine throughput: events decided per second by the embedded regorus engine and by OPA's own
evaluator embedded (opa-embedded), one at a time and in batches, and through the decision cache (hit ratio
printed). With `--against REF` it first times one evaluation under the policies/ of git REF (e.g. main)
and under the working tree, alternating batches in the same run, and counts the decisions that differ.
Prints figures; asserts nothing.

    .venv/bin/python bench/bench_policy.py [--events N] [--against REF]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
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


def against(ref: str, bundle: PolicyBundle, reqs: list[PolicyRequest], batch: int = 20) -> None:
    """ms per evaluation under REF's policies and the working tree's, batches alternated; decisions compared."""
    repo = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "-C", str(repo), "archive", ref, "policies"], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        engines = {ref: RegorusEngine(PolicyBundle.load(Path(tmp) / "policies")), "working tree": RegorusEngine(bundle)}
    spent = dict.fromkeys(engines, 0.0)
    decided: dict[str, list[object]] = {name: [] for name in engines}
    for i in range(0, len(reqs), batch):
        for name, engine in engines.items():
            start = time.perf_counter()
            out = engine.decide(reqs[i : i + batch])
            spent[name] += time.perf_counter() - start
            decided[name] += [d.recipients for d in out]
    for name, seconds in spent.items():
        print(f"regorus, {name:>12}: {seconds / len(reqs) * 1000:8.3f} ms per evaluation")
    different = sum(a != b for a, b in zip(*decided.values(), strict=True))
    ratio = spent[ref] / spent["working tree"]
    print(f"{ref} / working tree: {ratio:.2f}x; {different} of {len(reqs)} decisions different")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--against", metavar="REF", help="compare one evaluation's cost with git REF's policies/")
    args = parser.parse_args()
    n = args.events
    bundle = PolicyBundle.load(POLICIES_DIR)
    reqs = requests(n)
    if args.against:
        against(args.against, bundle, reqs)
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
