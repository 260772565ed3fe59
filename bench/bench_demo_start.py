"""`eahub demo` start-up: seconds from launch to its first line (the banner) and to the first decision line,
and the demo process's own CPU seconds at that line (steadier than wall time on a shared machine; the broker's
CPU is not in it), over several runs, each in a fresh data directory on free ports. Prints figures; run by hand:

    python bench/bench_demo_start.py [--runs 3] [--before-src DIR]

  --before-src DIR   also the demo of another tree's code (DIR/eahub = that tree's services/, on PYTHONPATH),
                     alternated with this tree's in every run"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

DECISION = re.compile(r"^\d\d:\d\d:\d\d  event ")
_TICKS_PER_S = os.sysconf("SC_CLK_TCK")


class Run(NamedTuple):
    started: float  # seconds to the first line
    decided: float  # seconds to the first decision line
    cpu: float  # CPU seconds (user + system) of the demo process when its first decision line was read


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process (Linux: /proc/PID/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_S


def one_run(timeout_s: float, src: str | None = None) -> Run:
    data_dir = Path(tempfile.mkdtemp(prefix="eahub-demo-bench-"))
    env = {
        **os.environ,
        "EAHUB_DATA_DIR": str(data_dir),
        "EAHUB_BROKER_PORT": str(free_port()),
        "EAHUB_HTTP_PORT": str(free_port()),
        "EAHUB_BOARD_HTTP_PORT": str(free_port()),
        "EAHUB_CONSOLE_HTTP_PORT": str(free_port()),
        **({"PYTHONPATH": src} if src else {}),
    }
    launched = time.perf_counter()
    demo = subprocess.Popen([sys.executable, "-m", "eahub", "demo"], cwd=data_dir, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    started = decided = cpu = float("nan")
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
                cpu = cpu_seconds(demo.pid)
                break
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    return Run(started, decided, cpu)


def spread(values: list[float]) -> str:
    return (f"min {min(values):.2f} s, median {statistics.median(values):.2f} s, max {max(values):.2f} s  "
            f"({', '.join(f'{v:.2f}' for v in values)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--before-src", default=None, help="a folder whose eahub/ is another tree's services/")
    args = parser.parse_args()
    variants = ([("before", args.before_src)] if args.before_src else []) + [("this tree", None)]
    results: dict[str, list[Run]] = {name: [] for name, _ in variants}
    for _ in range(args.runs):
        for name, src in variants:
            results[name].append(one_run(args.timeout, src))
    for name, runs in results.items():
        if len(variants) > 1:
            print(f"{name}:")
        for label, values in (("first line", [r.started for r in runs]), ("first decision", [r.decided for r in runs]),
                              ("CPU at decision", [r.cpu for r in runs])):
            print(f"  {label:<16} {spread(values)}")


if __name__ == "__main__":
    main()
