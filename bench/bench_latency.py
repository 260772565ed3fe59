"""End-to-end latency of a running hub (`start_hub` on the embedded default: Tansu, SQLite, regorus).

Publishes generated events at fixed rates over Kafka (a producer client on the inbound topics) and over HTTP
(the ingest API, several client threads), and prints, per rate, the p50/p95/p99 of
  publish -> first routed case   (a bench consumer on every eahub.board.* topic)
  publish -> every routed case   (the event's last case to arrive)
  publish -> ledger              (the event's first and last entry seen in the ledger, polled every 10 ms)
plus the CPU each service thread, librdkafka's threads and the broker used (% of one core), measured from
/proc per thread, and the same while idle. Over Kafka, `--hops` also prints where one event's time goes, hop by
hop (p50/p99 of each): to the router's poll, its decision (to the produce of the event's audit message), the
wait for that message's acknowledgement (to the produce of its cases), the case's way to the board consumer,
and on the ledger's side the audit service's poll, its batch (append, vault, commit) and the ledger poller.
Produce times are the messages' own timestamps (ms); poll and batch times come from wrapping the consume
loop's methods in this process (so only with the services in threads). The bench's own threads share the process
(and the GIL) with the hub's threads.

`--shapes threads,ingest,apart` runs the hub in each shape in turn, `--rounds` times, alternated, a fresh hub each
time: `threads` every service in threads of this process (`start_hub`, as `eahub up --one-process` and `eahub
demo`), `ingest` ingest in a process of its own and the rest in threads (`eahub up --apart ingest`), `apart` ingest,
the router and the audit service each in a process of its own (`eahub up --apart ingest,router,audit`; a process's
CPU is read from /proc/<pid>/stat, all of its threads together); it then
prints min/median/max over the rounds of each rate's p50/p99 to the first case and p99 to the ledger. Run by hand;
keep runs short on a shared machine:

    .venv/bin/python bench/bench_latency.py [--seconds 10] [--rates 10,100,300] [--transports kafka,http] [--hops]
        [--shapes threads,apart --rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import Consumer, Producer
from sqlalchemy import text

from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.broker import free_port
from eahub.core.consume import ConsumeLoop
from eahub.core.database import make_engine
from eahub.core.event_json import from_json
from eahub.core.kafka import consumer_config, producer_config
from eahub.core.logging import configure_logging
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.hub import RunningHub, start_hub
from eahub.ingest.generator import generate
from eahub.ingest.tokens import TokenStore

TICK = os.sysconf("SC_CLK_TCK")
SHAPES = {"threads": (), "ingest": ("ingest",), "apart": ("ingest", "router", "audit")}  # services in processes
Position = tuple[str, int, int]  # topic, partition, offset


class Hops:
    """Per message position: when the router's and the audit service's consume loops returned it from a poll and
    when the audit service's batch holding it was done (its offsets committed). Installed by wrapping
    `ConsumeLoop.next_batch` and `ConsumeLoop.process_batch` of every loop in this process; the clock is
    `time.time()` so that it compares with the messages' own timestamps."""

    def __init__(self) -> None:
        self.polled: dict[str, dict[Position, float]] = defaultdict(dict)
        self.done: dict[str, dict[Position, float]] = defaultdict(dict)
        next_batch, process_batch = ConsumeLoop.next_batch, ConsumeLoop.process_batch
        hops = self

        def timed_next_batch(loop: ConsumeLoop) -> list[Any]:
            msgs = next_batch(loop)
            now = time.time()
            polled = hops.polled[loop.name]
            for m in msgs:
                polled[(m.topic(), m.partition(), m.offset())] = now
            return msgs

        def timed_process_batch(loop: ConsumeLoop, msgs: list[Any], stop: threading.Event | None = None) -> None:
            process_batch(loop, msgs, stop)
            now = time.time()
            done = hops.done[loop.name]
            for m in msgs:
                done[(m.topic(), m.partition(), m.offset())] = now

        ConsumeLoop.next_batch = timed_next_batch  # type: ignore[method-assign]
        ConsumeLoop.process_batch = timed_process_batch  # type: ignore[method-assign]


class Observer:
    """Arrival times of routed cases (bench consumer) and ledger entries (ledger poller), by event id."""

    def __init__(self, settings: HubSettings, hops: bool = False) -> None:
        self.cases: dict[str, list[float]] = defaultdict(list)
        self.entries: dict[str, list[float]] = defaultdict(list)
        # With hops: each event's first case (produce timestamp, arrival) and audit message (produce, position).
        self.case_produced: dict[str, tuple[float, float]] = {}
        self.audit_produced: dict[str, tuple[float, Position]] = {}
        self.hops = hops
        self.entry_seen: dict[str, float] = {}  # wall clock of each event's first entry seen in the ledger
        self.stop = threading.Event()
        self.consumer = Consumer(consumer_config(settings, f"bench-observer-{uuid.uuid4().hex[:6]}",
                                                 **{"topic.metadata.refresh.interval.ms": 1000, "fetch.wait.max.ms": 10,
                                                    "auto.offset.reset": "latest"}))
        self.assigned = threading.Event()
        self.consumer.subscribe([r"^eahub\.board\..+", *([topics.AUDIT] if hops else [])],
                                on_assign=lambda _c, _p: self.assigned.set())
        self.engine = make_engine(settings.ledger_url)
        with self.engine.connect() as conn:
            self.last_seq = int(conn.scalar(text("SELECT coalesce(max(seq), -1) FROM audit_ledger")))
        self.threads = [threading.Thread(target=self._cases, name="bench-cases", daemon=True),
                        threading.Thread(target=self._ledger, name="bench-ledger", daemon=True)]
        for t in self.threads:
            t.start()

    def _cases(self) -> None:
        while not self.stop.is_set():
            first = self.consumer.poll(0.1)
            if first is None:
                continue
            now, wall = time.perf_counter(), time.time()
            for m in [first, *self.consumer.consume(500, timeout=0)]:
                if m.error() is not None or not m.value():
                    continue
                if m.topic() == topics.AUDIT:
                    for entry in entries_of(m.value()):
                        if entry.get("event_id"):
                            self.audit_produced.setdefault(entry["event_id"],
                                                           (m.timestamp()[1] / 1000, (m.topic(), m.partition(),
                                                                                      m.offset())))
                    continue
                event_id = avro_codec.decode(m.value(), schemas.ROUTED_CASE)[1]["event_id"]
                self.cases[event_id].append(now)
                if self.hops:
                    self.case_produced.setdefault(event_id, (m.timestamp()[1] / 1000, wall))
        self.consumer.close()

    def _ledger(self) -> None:
        query = text("SELECT seq, event_id FROM audit_ledger WHERE seq > :s ORDER BY seq")
        while not self.stop.wait(0.01):
            with self.engine.connect() as conn:
                rows = conn.execute(query, {"s": self.last_seq}).all()
            now, wall = time.perf_counter(), time.time()
            for seq, event_id in rows:
                self.last_seq = seq
                if event_id:
                    self.entries[event_id].append(now)
                    self.entry_seen.setdefault(event_id, wall)

    def ready(self, timeout_s: float = 15.0) -> None:
        if not self.assigned.wait(timeout_s):
            raise SystemExit("the bench consumer was not assigned the board topics")

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(5)


def _process_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def cpu_times(hub: RunningHub) -> dict[str, float]:
    """CPU seconds per named Python thread, per group of native threads (librdkafka), of each service process
    (all its threads) and of the broker."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = defaultdict(float)
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid))
        group = name if name else "librdkafka+native"
        if group.startswith("bench-") or group == "MainThread":
            group = "bench (publish+observe)"
        out[group] += (int(fields[11]) + int(fields[12])) / TICK
    for child in hub.processes:
        if child.pid is not None:
            try:
                out[f"{child.name} process"] = _process_cpu_s(child.pid)
            except OSError:
                continue
    if hub.broker is not None and hub.broker._proc is not None:
        out["broker (tansu)"] = _process_cpu_s(hub.broker._proc.pid)
    return out


def cpu_share(before: dict[str, float], after: dict[str, float], seconds: float) -> str:
    parts = [f"{k} {100 * (after[k] - before.get(k, 0.0)) / seconds:.0f}%" for k in sorted(after)]
    return ", ".join(parts)


def fresh_events(n: int, seed: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=max(1, n // 134 + 1))
    events = []
    for obj in generate(count=n, seed=seed, start=start):
        obj["event_id"] = str(uuid.uuid4())
        events.append(obj)
    return events


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def summary(label: str, values: list[float]) -> str:
    return (f"  {label:<26} n={len(values):<6} p50 {pct(values, 0.5):7.1f}  p95 {pct(values, 0.95):7.1f}  "
            f"p99 {pct(values, 0.99):7.1f} ms")


def position_of(event_id: str, inbound: dict[str, Position]) -> Any:
    """A delivery callback that notes where the event's message landed."""
    def on_delivery(_err: Any, msg: Any) -> None:
        inbound[event_id] = (msg.topic(), msg.partition(), msg.offset())
    return on_delivery


def hop_summary(hops: Hops, observer: Observer, sent_wall: dict[str, float], inbound: dict[str, Position]) -> None:
    """Print p50/p99 of each hop of the events seen all the way (see the module's docstring)."""
    names = ["publish -> router poll", "router poll -> audit produced", "audit produced -> cases produced",
             "case produced -> board", "audit produced -> audit poll", "audit poll -> batch committed",
             "audit poll -> seen in ledger", "cases produced -> router committed"]
    values: dict[str, list[float]] = {n: [] for n in names}
    router, audit, audit_done = hops.polled["router"], hops.polled["audit"], hops.done["audit"]
    router_done = hops.done["router"]
    for event_id, t0 in sent_wall.items():
        polled = router.get(inbound.get(event_id, ("", 0, -1)))
        produced = observer.audit_produced.get(event_id)
        case = observer.case_produced.get(event_id)
        if polled is None or produced is None:
            continue
        values[names[0]].append(polled - t0)
        values[names[1]].append(produced[0] - polled)
        if case is not None:
            values[names[2]].append(case[0] - produced[0])
            values[names[3]].append(case[1] - case[0])
            if inbound.get(event_id) in router_done:
                values[names[7]].append(router_done[inbound[event_id]] - case[0])
        if produced[1] in audit:
            values[names[4]].append(audit[produced[1]] - produced[0])
            if produced[1] in audit_done:
                values[names[5]].append(audit_done[produced[1]] - audit[produced[1]])
            if event_id in observer.entry_seen:
                values[names[6]].append(observer.entry_seen[event_id] - audit[produced[1]])
    print("  hops (ms; produce times are message timestamps, 1 ms resolution):")
    for name in names:
        v = values[name]
        print(f"    {name:<34} n={len(v):<6} p50 {pct(v, 0.5):6.1f}  p99 {pct(v, 0.99):6.1f}")


def run_rate(hub: RunningHub, transport: str, rate: int, seconds: float, seed: int,
             tokens: dict[str, str], hops: Hops | None = None) -> dict[str, float]:
    """Publish at `rate` for `seconds`, print the figures; returns the summary's (first case p50/p99, ledger p99)."""
    settings = hub.settings
    n = int(rate * seconds)
    events = fresh_events(n, seed)
    pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
    observer = Observer(settings, hops=hops is not None)
    observer.ready()
    sent: dict[str, float] = {}
    sent_wall: dict[str, float] = {}
    inbound: dict[str, Position] = {}  # each event's position on its inbound topic
    errors = 0
    # An agency's system publishing with librdkafka's defaults (linger.ms 5), whatever the hub's own producers use.
    producer = Producer(producer_config(settings, **{"linger.ms": 5})) if transport == "kafka" else None
    client = httpx.Client(base_url=f"http://{settings.http_host}:{settings.http_port}", timeout=10,
                          limits=httpx.Limits(max_connections=16)) if transport == "http" else None
    pool = ThreadPoolExecutor(16, thread_name_prefix="bench-http") if client else None
    payloads = []
    for obj in events:
        if producer:
            record = from_json(obj)
            payloads.append((topics.inbound(record["source_agency"]), pseudo.subject_ref(record).encode(),
                             avro_codec.encode(schemas.CONCERN_EVENT, record)))
        else:
            payloads.append(obj)

    def post(obj: dict[str, Any]) -> None:
        nonlocal errors
        assert client is not None
        sent[obj["event_id"]] = time.perf_counter()
        r = client.post("/v1/events", json=obj,
                        headers={"Authorization": f"Bearer {tokens[obj['source_agency']]}"})
        if r.status_code != 202:
            errors += 1

    if producer:  # connected, metadata of every topic fetched and producer id granted before the clock starts
        producer.list_topics(timeout=10)
        time.sleep(0.5)
    if client:
        client.get("/docs")
    before = cpu_times(hub)
    t0 = time.perf_counter()
    for i, (obj, payload) in enumerate(zip(events, payloads, strict=True)):
        due = t0 + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if producer:
            topic, key, value = payload  # type: ignore[misc]
            event_id = obj["event_id"]
            sent[event_id], sent_wall[event_id] = time.perf_counter(), time.time()
            producer.produce(topic, value, key, on_delivery=position_of(event_id, inbound))
            producer.poll(0)
        else:
            assert pool is not None
            pool.submit(post, payload)
    if pool:
        pool.shutdown(wait=True)
    if producer:
        producer.flush(30)
    publish_s = time.perf_counter() - t0
    cpu_after_publish = cpu_times(hub)
    # Drain: wait until every event is in the ledger and it stopped growing for a second, or it stopped growing for
    # 5 s (a quiet second alone ended runs whose audit service was still behind, in the middle of a 2,500-entry
    # batch or a tree head, and left the slowest events out of the percentiles), or 30 s.
    deadline = time.perf_counter() + 30
    last_count, quiet_since = -1, time.perf_counter()
    while time.perf_counter() < deadline:
        count = sum(map(len, list(observer.entries.values())))  # a copy: the ledger poller adds keys meanwhile
        quiet = time.perf_counter() - quiet_since
        if count != last_count:
            last_count, quiet_since = count, time.perf_counter()
        elif quiet > 5.0 or (quiet > 1.0 and len(observer.entries) >= len(sent)):
            break
        time.sleep(0.1)
    observer.close()
    if client:
        client.close()
    first_case, every_case, ledger_first, ledger_all = [], [], [], []
    halves: tuple[list[float], list[float]] = ([], [])
    for event_id, t in sent.items():
        if event_id in observer.cases:
            first_case.append(min(observer.cases[event_id]) - t)
            every_case.append(max(observer.cases[event_id]) - t)
        if event_id in observer.entries:
            ledger_first.append(min(observer.entries[event_id]) - t)
            ledger_all.append(max(observer.entries[event_id]) - t)
            halves[0 if t - t0 < publish_s / 2 else 1].append(max(observer.entries[event_id]) - t)
    print(f"{transport} at {rate}/s for {seconds:g} s: sent {len(sent)} ({len(sent) / publish_s:.0f}/s achieved"
          f"{f', {errors} not accepted' if errors else ''}), with cases {len(first_case)}, in ledger "
          f"{len(ledger_first)}")
    print(summary("publish -> first case", first_case))
    print(summary("publish -> every case", every_case))
    print(summary("publish -> ledger (first)", ledger_first))
    print(summary("publish -> ledger (all)", ledger_all))
    print(f"  ledger (all) p99 first half {pct(halves[0], 0.99):.1f} ms, second half {pct(halves[1], 0.99):.1f} ms")
    print(f"  CPU while publishing (% of one core): {cpu_share(before, cpu_after_publish, publish_s)}")
    wal = Path(f"{settings.data_dir / 'ledger.db'}-wal")
    if settings.database_url is None and wal.exists():
        print(f"  ledger WAL after the run {wal.stat().st_size / 1e6:.1f} MB")
    if hops is not None and transport == "kafka":
        hop_summary(hops, observer, sent_wall, inbound)
    return {"first case p50": pct(first_case, 0.5), "first case p99": pct(first_case, 0.99),
            "ledger (all) p99": pct(ledger_all, 0.99)}


def run_hub(args: argparse.Namespace, shape: str, hops: Hops | None) -> dict[tuple[str, int], dict[str, float]]:
    """One fresh hub in `shape` through every transport and rate; the summary figures of each."""
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = HubSettings(data_dir=Path(tmp), broker_port=free_port(), http_port=free_port(),
                               metrics_port=free_port(), log_level="error")  # the service processes' too
        started = time.perf_counter()
        hub = start_hub(settings, apart=SHAPES[shape])
        try:
            if not hub.wait_running():
                raise SystemExit(f"the hub stopped during its start: {hub.services.failures}")
            agencies = agency_ids(settings.policies_dir)
            store = TokenStore.in_data_dir(settings.data_dir)
            tokens = {a: store.issue(a, agencies)[1] for a in agencies}
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # wait for the HTTP API
                try:
                    httpx.get(f"http://{settings.http_host}:{settings.http_port}/docs", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            print(f"[{shape}] hub started in {time.perf_counter() - started:.1f} s (embedded broker, SQLite, regorus"
                  f"{'; apart: ' + ', '.join(SHAPES[shape]) if SHAPES[shape] else ''})")
            time.sleep(3)  # let every consumer group settle
            before = cpu_times(hub)
            time.sleep(args.idle_seconds)
            print(f"idle {args.idle_seconds:g} s, CPU (% of one core): "
                  f"{cpu_share(before, cpu_times(hub), args.idle_seconds)}")
            seed = 11
            for transport in args.transports.split(","):
                for rate in [int(r) for r in args.rates.split(",")]:
                    seed += 1
                    print(f"[{shape}] ", end="")
                    results[(transport, rate)] = run_rate(hub, transport, rate, args.seconds, seed, tokens, hops)
            if hub.services.failures:
                raise SystemExit(f"a service failed during the run: {hub.services.failures}")
        finally:
            hub.shutdown()
    return results


def print_rounds(rounds: dict[str, list[dict[tuple[str, int], dict[str, float]]]]) -> None:
    print(f"\nmin/median/max over {max(map(len, rounds.values()))} round(s), ms (load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}):")
    for shape, runs in rounds.items():
        for key in runs[0]:
            cells = []
            for measure in runs[0][key]:
                values = sorted(run[key][measure] for run in runs)
                cells.append(f"{measure} {values[0]:.0f}/{statistics.median(values):.0f}/{values[-1]:.0f}")
            print(f"  {shape:<8} {key[0]} {key[1]:>4}/s: " + ", ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="publishing time per rate")
    parser.add_argument("--rates", default="10,100,300", help="events/s, comma-separated (e.g. 10,100,300,1000)")
    parser.add_argument("--transports", default="kafka,http")
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    parser.add_argument("--hops", action="store_true", help="also print where an event's time goes, hop by hop")
    parser.add_argument("--shapes", default="threads",
                        help="threads, ingest and/or apart (see above), comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="times each shape runs, alternated")
    args = parser.parse_args()
    configure_logging("console", "error")
    shapes = args.shapes.split(",")
    if set(shapes) - set(SHAPES):
        parser.error(f"--shapes: one of {', '.join(SHAPES)}")
    if args.hops and "apart" in shapes:
        parser.error("--hops wraps the consume loops of this process: only with --shapes threads")
    hops = Hops() if args.hops else None
    rounds: dict[str, list[dict[tuple[str, int], dict[str, float]]]] = {shape: [] for shape in shapes}
    for n in range(args.rounds):
        for shape in shapes:  # alternated, so that the machine's load falls on both alike
            print(f"--- round {n + 1}/{args.rounds}, {shape} (load average "
                  f"{' '.join(f'{x:.2f}' for x in os.getloadavg())})")
            rounds[shape].append(run_hub(args, shape, hops))
    print_rounds(rounds)


if __name__ == "__main__":
    main()
