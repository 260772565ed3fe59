"""Ingest throughput and latency on the embedded broker. Every 202 is answered after the broker's ack.

Modes (`--modes`, comma-separated):
  inproc      validation alone, the producer client (batched, acknowledged), the HTTP API in-process with
              TestClient (one request at a time) and its idempotent replay
  throughput  `eahub ingest --workers W` as a separate process, 16 concurrent clients (keep-alive connections)
              from this process: events/s for each W of `--workers`, alternated `--rounds` times
  rate        the same server, events sent at a fixed `--rate` for `--seconds`: p50/p95/p99 of the 202, timed
              from each event's due time (a late send counts against the server)
  up          `eahub up` as a separate process (router, audit, boards and console busy beside ingest): the fixed
              rate for each `--up-variants` (`threads`: `eahub up --one-process`, every service in one process;
              `processes`: `eahub up --processes`, the default, ingest in a process of its own), alternated
              `--rounds` times

The load generator is a small asyncio HTTP/1.1 client (pre-built requests, one connection per client), so that
its own CPU stays far below the server's; it runs in this process, the server in another.

    .venv/bin/python bench/bench_ingest.py [--modes throughput,rate] [--workers 1,2] [--clients 16]
    .venv/bin/python bench/bench_ingest.py --modes up --rate 100 --seconds 10 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.logging import configure_logging
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.core.topics import create_topics
from eahub.hub.init import initialise
from eahub.ingest.bootstrap import build_app
from eahub.ingest.generator import generate
from eahub.ingest.producer import ConcernProducer
from eahub.ingest.tokens import TokenStore
from eahub.ingest.validation import validate_event


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:9.0f} events/s  ({n} in {seconds:.2f} s)"


def fresh_events(n: int, seed: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=n // 134 + 3)  # about 134 a day: the last well before now
    events = list(generate(n, seed=seed, start=start))
    for e in events:
        e["event_id"] = str(uuid.uuid4())
    return events


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


# --- the load generator -------------------------------------------------------------------------------------------

def requests_for(events: list[dict[str, Any]], tokens: dict[str, str]) -> list[bytes]:
    out = []
    for e in events:
        body = json.dumps(e, separators=(",", ":")).encode()
        head = (f"POST /v1/events HTTP/1.1\r\nHost: bench\r\nAuthorization: Bearer {tokens[e['source_agency']]}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        out.append(head + body)
    return out


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    await reader.readexactly(length)
    return int(head[9:12])


async def _load(host: str, port: int, requests: list[bytes], clients: int, per_s: float | None,
                on_done: Callable[[], None] | None = None) -> tuple[float, list[float], dict[int, int]]:
    """Send every request over `clients` keep-alive connections, as fast as they answer (per_s None) or each at
    its due time t0 + i/per_s; then `on_done()`, before the connections close. Returns (elapsed, latencies, status
    counts)."""
    conns = [await asyncio.open_connection(host, port) for _ in range(clients)]
    free: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for c in conns:
        free.put_nowait(c)
    latencies: list[float] = []
    codes: dict[int, int] = {}

    async def one(request: bytes, due: float) -> None:
        conn = await free.get()
        code = await _exchange(*conn, request)
        latencies.append(time.perf_counter() - due)
        codes[code] = codes.get(code, 0) + 1
        free.put_nowait(conn)

    t0 = time.perf_counter()
    tasks = []
    for i, request in enumerate(requests):
        due = time.perf_counter() if per_s is None else t0 + i / per_s
        if per_s is not None and due > time.perf_counter():
            await asyncio.sleep(due - time.perf_counter())
        tasks.append(asyncio.ensure_future(one(request, due)))
        if per_s is None and len(tasks) % clients == 0:
            await asyncio.sleep(0)  # let the clients take their requests in turn
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - t0
    if on_done is not None:
        on_done()  # every connection still open, and accepted by now
    for _, writer in conns:
        writer.close()
    return elapsed, latencies, codes


def load(base_url: str, requests: list[bytes], clients: int, per_s: float | None = None,
         on_done: Callable[[], None] | None = None) -> tuple[float, list[float], dict[int, int]]:
    url = httpx.URL(base_url)
    return asyncio.run(_load(url.host, url.port or 80, requests, clients, per_s, on_done))


def connections_per_process(port: int) -> list[int]:
    """How many established connections to local `port` each process holds (uvicorn's workers share one listening
    socket, so which worker accepts a connection is a race), most first."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED, local port
                inodes.add(fields[9])
    counts: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            links = [os.readlink(f"/proc/{entry}/fd/{fd}") for fd in os.listdir(f"/proc/{entry}/fd")]
        except OSError:
            continue
        held = sum(1 for link in links if link.startswith("socket:[") and link[8:-1] in inodes)
        if held:
            counts[int(entry)] = held
    return sorted(counts.values(), reverse=True)


def latency_line(label: str, latencies: list[float], codes: dict[int, int], elapsed: float) -> str:
    return (f"{label:<34} p50 {pct(latencies, 0.5):6.1f}  p95 {pct(latencies, 0.95):6.1f}  "
            f"p99 {pct(latencies, 0.99):6.1f}  max {pct(latencies, 1.0):6.1f} ms  "
            f"({len(latencies) / elapsed:.0f}/s achieved, statuses {codes})")


# --- servers in processes of their own ----------------------------------------------------------------------------

def server_env(settings: HubSettings, http_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAHUB_")}
    env.update({"EAHUB_DATA_DIR": str(settings.data_dir), "EAHUB_BROKER_PORT": str(settings.broker_port),
                "EAHUB_HTTP_PORT": str(http_port), "EAHUB_LOG_LEVEL": "warning", **extra})
    return env


TICK = os.sysconf("SC_CLK_TCK")


def _process_stats() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds user + system) of every process."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return stats


def _tree(stats: dict[int, tuple[int, float]], pid: int) -> set[int]:
    tree, grew = {pid}, True
    while grew:
        below = {p for p, (ppid, _) in stats.items() if ppid in tree} - tree
        grew, tree = bool(below), tree | below
    return tree


def cpu_by_part(server_pid: int) -> dict[str, float]:
    """CPU seconds so far of the server (its process tree), the client (this process: the load generator, all its
    threads) and the broker (every other process below this one: the embedded broker)."""
    stats = _process_stats()
    server = _tree(stats, server_pid)
    below_us = _tree(stats, os.getpid()) - server - {os.getpid()}
    own = os.times()
    return {"server": sum(stats.get(p, (0, 0.0))[1] for p in server),
            "client": own.user + own.system,
            "broker": sum(stats.get(p, (0, 0.0))[1] for p in below_us)}


def cpu_line(before: dict[str, float], after: dict[str, float], requests: int) -> str:
    """CPU ms per request of each part between two `cpu_by_part` readings."""
    return ", ".join(f"{part} {(after[part] - before[part]) * 1000 / requests:.2f}" for part in before)


@dataclass
class Served:
    base_url: str
    pid: int


@contextmanager
def serving(args: list[str], env: dict[str, str], log: Path) -> Iterator[Served]:
    """`eahub ARGS` in a new process group, until its /healthz answers; SIGINT (as Ctrl-C) when done."""
    base_url = f"http://127.0.0.1:{env['EAHUB_HTTP_PORT']}"
    with open(log, "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "eahub", *args], env=env, stdout=out, stderr=out,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"eahub {' '.join(args)} exited with {proc.returncode}; see {log}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"eahub {' '.join(args)} did not serve within 60 s; see {log}")
            time.sleep(0.1)
        yield Served(base_url, proc.pid)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def warm_up(base_url: str, tokens: dict[str, str], clients: int, per_client: int = 10) -> None:
    load(base_url, requests_for(fresh_events(clients * per_client, seed=99), tokens), clients)


# --- modes --------------------------------------------------------------------------------------------------------

def bench_inproc(settings: HubSettings, tokens: dict[str, str], count: int) -> None:
    agencies = agency_ids(settings.policies_dir)
    events = fresh_events(count, seed=1)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    for e in events:
        validate_event(e, agencies, now)
    print("validate_event                    ", rate(len(events), time.perf_counter() - t0))

    police = [e for e in events if e["source_agency"] == "lancashire-police"]
    producer = ConcernProducer(settings, "lancashire-police")
    t0 = time.perf_counter()
    published = sum(1 for r in producer.publish_many(police) if r.ok)
    print("producer publish_many             ", rate(published, time.perf_counter() - t0))
    producer.close()

    auth = {a: {"Authorization": f"Bearer {t}"} for a, t in tokens.items()}
    fresh = fresh_events(count, seed=2)
    with TestClient(build_app(settings)) as client:
        t0 = time.perf_counter()
        for e in fresh:
            assert client.post("/v1/events", json=e, headers=auth[e["source_agency"]]).status_code == 202
        print("HTTP POST /v1/events              ", rate(len(fresh), time.perf_counter() - t0),
              "sequential, in-process")
        t0 = time.perf_counter()
        for e in fresh[:500]:
            assert client.post("/v1/events", json=e, headers=auth[e["source_agency"]]).status_code == 202
        print("HTTP idempotent replay            ", rate(min(500, len(fresh)), time.perf_counter() - t0))


def bench_ingest_server(settings: HubSettings, tokens: dict[str, str], args: argparse.Namespace, modes: set[str],
                        log: Path) -> None:
    variants: list[tuple[str, list[str], dict[str, str]]] = []
    if args.before_src:  # the same bench against another tree's code (e.g. main's), for before/after in one run
        variants.append(("before: eahub ingest", ["ingest"], {"PYTHONPATH": args.before_src}))
    variants += [(f"eahub ingest --workers {w}", ["ingest", "--workers", w], {}) for w in args.workers.split(",")]
    results: dict[str, list[str]] = {}
    for round_ in range(args.rounds):
        for name, command, extra_env in variants:
            env = server_env(settings, free_port(), **extra_env)
            with serving(command, env, log) as server:
                base_url = server.base_url
                warm_up(base_url, tokens, args.clients)
                if "throughput" in modes:
                    requests = requests_for(fresh_events(args.count, seed=10 + round_), tokens)
                    cpu = cpu_by_part(server.pid)
                    spread: list[int] = []
                    port = httpx.URL(base_url).port or 80
                    elapsed, _, codes = load(base_url, requests, args.clients,
                                             on_done=lambda s=spread, p=port: s.extend(connections_per_process(p)))
                    cpu_after = cpu_by_part(server.pid)
                    cpu_ms = (cpu_after["server"] - cpu["server"]) * 1000 / len(requests)
                    print(f"{name}, {args.clients} clients {rate(len(requests), elapsed)}, "
                          f"CPU ms/request: {cpu_line(cpu, cpu_after, len(requests))}, statuses {codes}, "
                          f"connections per process {'/'.join(map(str, spread))}", flush=True)
                    results.setdefault(f"{name}: server CPU ms/request", []).append(f"{cpu_ms:.2f}")
                    results.setdefault(f"{name}: events/s", []).append(f"{len(requests) / elapsed:.0f}")
                if "rate" in modes:
                    requests = requests_for(fresh_events(int(args.rate * args.seconds), seed=20 + round_), tokens)
                    cpu = cpu_by_part(server.pid)
                    elapsed, latencies, codes = load(base_url, requests, args.clients, args.rate)
                    print(latency_line(f"{name} at {args.rate:g}/s", latencies, codes, elapsed),
                          f"CPU ms/request: {cpu_line(cpu, cpu_by_part(server.pid), len(requests))}", flush=True)
                    results.setdefault(f"{name}: p99 of the 202 at {args.rate:g}/s", []).append(
                        f"{pct(latencies, 0.99):.1f} ms")
    for label, values in results.items():
        print(f"  {label}: {', '.join(values)}")


def bench_up(settings: HubSettings, args: argparse.Namespace, log: Path) -> None:
    """`eahub up` in its own process and data dir per run (its broker too), ingest measured at a fixed rate."""
    results: dict[str, list[str]] = {}
    for _ in range(args.rounds):
        for variant in args.up_variants.split(","):
            with tempfile.TemporaryDirectory() as tmp:
                up_settings = settings.model_copy(update={"data_dir": Path(tmp), "broker_port": free_port()})
                env = server_env(up_settings, free_port(), EAHUB_BOARD_HTTP_PORT=str(free_port()),
                                 EAHUB_CONSOLE_HTTP_PORT=str(free_port()))
                extra = ["--processes"] if variant == "processes" else ["--one-process"]
                with serving(["up", *extra], env, log) as server:
                    base_url = server.base_url
                    up_tokens = issue_tokens(up_settings)
                    time.sleep(5)  # let every consumer group settle
                    warm_up(base_url, up_tokens, args.clients, per_client=2)
                    requests = requests_for(fresh_events(int(args.rate * args.seconds), seed=30), up_tokens)
                    elapsed, latencies, codes = load(base_url, requests, args.clients, args.rate)
                    print(latency_line(f"eahub up ({variant}) at {args.rate:g}/s", latencies, codes, elapsed),
                          flush=True)
                    results.setdefault(variant, []).append(f"{pct(latencies, 0.99):.1f} ms")
    for label, values in results.items():
        print(f"  eahub up ({label}) p99 of the 202: {', '.join(values)}")


def issue_tokens(settings: HubSettings) -> dict[str, str]:
    agencies = agency_ids(settings.policies_dir)
    store = TokenStore.in_data_dir(settings.data_dir)
    return {a: store.issue(a, agencies)[1] for a in agencies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modes", default="inproc,throughput,rate")
    parser.add_argument("--count", type=int, default=3000, help="events per throughput run")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", default="1,2", help="worker processes of `eahub ingest`, comma-separated")
    parser.add_argument("--rate", type=float, default=100.0, help="events/s of the fixed-rate modes")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of a fixed-rate run")
    parser.add_argument("--rounds", type=int, default=1, help="alternate the variants this many times")
    parser.add_argument("--up-variants", default="threads,processes")
    parser.add_argument("--before-src", help="a folder whose eahub/ is another tree's services/ (PYTHONPATH), "
                                             "measured first in every round of throughput and rate")
    args = parser.parse_args()
    modes = set(args.modes.split(","))
    configure_logging("console", "warning")  # no line per request from the in-process app
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "servers.log"
        try:
            if "up" in modes:
                bench_up(HubSettings(data_dir=Path(tmp)), args, log)
            if modes & {"inproc", "throughput", "rate"}:
                with EmbeddedBroker(port=free_port()) as broker:
                    settings = HubSettings(data_dir=Path(tmp) / "data", broker_port=broker.port)
                    create_topics(settings, agency_ids(settings.policies_dir))
                    initialise(settings)
                    tokens = issue_tokens(settings)
                    if "inproc" in modes:
                        bench_inproc(settings, tokens, args.count)
                    if modes & {"throughput", "rate"}:
                        bench_ingest_server(settings, tokens, args, modes, log)
        except BaseException:
            if log.exists():
                print(log.read_text()[-3000:], file=sys.stderr)
            raise


if __name__ == "__main__":
    main()
