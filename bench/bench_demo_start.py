"""`eahub demo` start-up: seconds from launch to its first line (the banner) and to the first decision line,
over several runs, each in a fresh data directory on free ports. Prints figures; run by hand:

    python bench/bench_demo_start.py [--runs 3]"""

from __future__ import annotations

import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DECISION = re.compile(r"^\d\d:\d\d:\d\d  event ")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def one_run(timeout_s: float) -> tuple[float, float]:
    """(seconds to the first line, seconds to the first decision line)."""
    data_dir = Path(tempfile.mkdtemp(prefix="eahub-demo-bench-"))
    env = {
        **os.environ,
        "EAHUB_DATA_DIR": str(data_dir),
        "EAHUB_BROKER_PORT": str(free_port()),
        "EAHUB_HTTP_PORT": str(free_port()),
        "EAHUB_BOARD_HTTP_PORT": str(free_port()),
        "EAHUB_CONSOLE_HTTP_PORT": str(free_port()),
    }
    launched = time.perf_counter()
    demo = subprocess.Popen([sys.executable, "-m", "eahub", "demo"], cwd=data_dir, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    started = decided = float("nan")
    try:
        assert demo.stdout is not None
        while time.perf_counter() - launched < timeout_s:
            line = demo.stdout.readline()
            if not line:
                raise SystemExit("the demo stopped before its first decision line")
            if started != started:  # still NaN: this is the first line
                started = time.perf_counter() - launched
            if DECISION.match(line):
                decided = time.perf_counter() - launched
                break
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    return started, decided


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    results = [one_run(args.timeout) for _ in range(args.runs)]
    for label, values in (("first line", [r[0] for r in results]), ("first decision", [r[1] for r in results])):
        print(f"{label:<15} min {min(values):.2f} s, median {statistics.median(values):.2f} s, "
              f"max {max(values):.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")


if __name__ == "__main__":
    main()
