"""Audit service throughput: the service draining a pre-filled `eahub.audit` and board topics into the ledger and
the vault. Prints entries/s, events/s and routed cases/s (min/median/max over the rounds).

The topics hold the router's real output: generated events are routed in process (real policies, real
encoding) and what the router published on `eahub.audit` and `eahub.board.*` is produced to the embedded broker
once. Each round, each variant drains all of it in a child process of its own, with a fresh consumer group and a
fresh ledger (SQLite in a new data directory, or a new PostgreSQL database under --database-url), through the
service's own consume loop (batch, append, seal, checkpoint, commit), timed from the first batch to the last.

  --before-src DIR   also the same drain with another tree's code (DIR/eahub = that tree's services/), alternated
  --in-process       no broker: the service's batch handler over the same messages (no commits), for profiling
  --profile          cProfile of each drain, top functions by own time

Usage: .venv/bin/python bench/bench_audit.py [--events 4000] [--rounds 3] [--before-src DIR]
                                             [--database-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from confluent_kafka import Message

from eahub.core import topics
from eahub.core.messages import OutboundMessage

AUDITED = "audited.pickle"  # (topic, key, value) of every message the audit service reads


class CollectingPublisher:
    """Stands in for Kafka: keeps what is published, acknowledges at once."""

    def __init__(self) -> None:
        self.messages: list[OutboundMessage] = []

    def publish(self, messages: list[OutboundMessage]) -> None:
        self.messages.extend(messages)

    def close(self) -> None:
        pass


def route(data_dir: Path, n: int) -> list[tuple[str, bytes | None, bytes]]:
    """The router's outputs for `n` generated events that the audit service subscribes to."""
    from bench_router import inbound_messages

    from eahub.core.pseudonym import Pseudonymiser
    from eahub.core.settings import HubSettings
    from eahub.policy.bootstrap import build_engine
    from eahub.router.service import Router

    settings = HubSettings(data_dir=data_dir)
    pseudo = Pseudonymiser.from_data_dir(data_dir)
    msgs = inbound_messages(pseudo, n)  # the same feed as bench_router's
    publisher = CollectingPublisher()
    router = Router(consumer=None, publisher=publisher, engine=build_engine(settings),  # type: ignore[arg-type]
                    pseudonymiser=pseudo)
    for i in range(0, n, 500):
        router.handle_batch(msgs[i:i + 500], threading.Event())
    return [(m.topic, m.key, m.value) for m in publisher.messages
            if m.topic == topics.AUDIT or m.topic.startswith("eahub.board.")]


def counts(audited: list[tuple[str, bytes | None, bytes]]) -> tuple[int, int]:
    from eahub.core.audit_entries import entries_of

    entries = sum(len(entries_of(v)) for t, _, v in audited if t == topics.AUDIT)
    return entries, sum(1 for t, _, _ in audited if t != topics.AUDIT)


# --- the child: one drain with whatever `eahub` is on its path ----------------------------------------------


def child(args: argparse.Namespace) -> None:
    from eahub.audit.bootstrap import build_audit_service, init_audit, open_audit
    from eahub.audit.service import AuditService
    from eahub.core.logging import configure_logging
    from eahub.core.settings import HubSettings

    configure_logging(level="warning")
    settings = HubSettings(data_dir=args.data_dir, broker_port=args.broker_port or 9092,
                           database_url=args.database_url)
    init_audit(settings)
    entries, cases = args.expect
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    if args.in_process:
        with open(args.audited, "rb") as f:
            audited = pickle.load(f)
        msgs = [Message(topic=t, partition=0, offset=i, key=k, value=v) for i, (t, k, v) in enumerate(audited)]
        parts = open_audit(settings)
        service = AuditService(consumer=None, publisher=CollectingPublisher(),  # type: ignore[arg-type]
                               store=parts.store, vault=parts.vault, checkpointer=parts.checkpointer)
        service.checkpointer.sync()
        profiler = start_profile(args.profile)
        start = time.perf_counter()
        for i in range(0, len(msgs), service.settings.batch_size):
            service.handle_batch(msgs[i:i + service.settings.batch_size], threading.Event())
        elapsed = time.perf_counter() - start
    else:
        service = build_audit_service(settings, group_id=f"bench-audit-{os.getpid()}")
        service.checkpointer.sync()
        loop = service._loop()
        stop = threading.Event()
        profiler = start_profile(args.profile)
        start = None
        deadline = time.monotonic() + 300
        while service.stats.appended + service.stats.duplicates < entries or service.stats.payloads < cases:
            if time.monotonic() > deadline:
                raise SystemExit(f"drain stalled: {service.stats}")
            msgs = loop.next_batch()
            if msgs:
                start = start or time.perf_counter()
                loop.process_batch(msgs, stop)
        elapsed = time.perf_counter() - (start or time.perf_counter())
        service.close()
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    stats = service.stats
    assert stats.appended == entries and stats.payloads == cases, stats
    cpu_s = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    print(json.dumps({"seconds": elapsed, "entries": stats.appended, "cases": stats.payloads,
                      "batches": stats.batches, "cpu_s": cpu_s}))


def start_profile(wanted: bool) -> Any:
    if not wanted:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


# --- the parent -----------------------------------------------------------------------------------------------


def fresh_database(base_url: str | None, name: str) -> str | None:
    """A new empty PostgreSQL database next to `base_url`'s (None: SQLite in the child's data directory)."""
    if base_url is None:
        return None
    from sqlalchemy import text

    from eahub.core.database import make_engine

    engine = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base_url.rsplit("/", 1)[0] + "/" + name


def drop_database(base_url: str | None, name: str) -> None:
    if base_url is None:
        return
    from sqlalchemy import text

    from eahub.core.database import make_engine

    engine = make_engine(base_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    engine.dispose()


def run_child(variant: str, src: str | None, tmp: Path, round_: int, broker_port: int | None,
              args: argparse.Namespace, expect: tuple[int, int]) -> dict[str, Any]:
    tag = "before" if src else "after"
    data_dir = tmp / f"{tag}-{round_}"
    db_name = f"eahub_bench_audit_{tag}_{round_}"
    url = fresh_database(args.database_url, db_name)
    command = [sys.executable, __file__, "--child", "--data-dir", str(data_dir), "--audited", str(tmp / AUDITED),
               "--expect", str(expect[0]), str(expect[1])]
    command += ["--broker-port", str(broker_port)] if broker_port else ["--in-process"]
    command += ["--database-url", url] if url else []
    command += ["--profile"] if args.profile else []
    env = {**os.environ, "PYTHONPATH": src} if src else dict(os.environ)
    try:
        out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    except subprocess.CalledProcessError as exc:
        sys.stderr.write(exc.stderr)
        raise
    finally:
        drop_database(args.database_url, db_name)
    if args.profile:
        sys.stderr.write(f"--- profile of {variant} ---\n{out.stderr}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before-src", default=None, help="a folder whose eahub/ is another tree's services/")
    parser.add_argument("--database-url", default=None, help="a PostgreSQL server's database (fresh ones made)")
    parser.add_argument("--in-process", action="store_true", help="no broker: the batch handler alone")
    parser.add_argument("--profile", action="store_true", help="cProfile of each drain (on stderr)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--data-dir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--audited", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--broker-port", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory(prefix="eahub-bench-audit-") as tmp_name:
        tmp = Path(tmp_name)
        audited = route(tmp / "router", args.events)
        with open(tmp / AUDITED, "wb") as f:
            pickle.dump(audited, f)
        expect = counts(audited)
        n_audit = sum(1 for t, _, _ in audited if t == topics.AUDIT)
        print(f"events: {args.events}: {n_audit:,} audit messages holding {expect[0]:,} entries, "
              f"{expect[1]:,} routed cases; ledger on {'PostgreSQL' if args.database_url else 'SQLite'}, "
              f"{'in process (no broker, no commits)' if args.in_process else 'embedded broker'}", flush=True)
        variants = ([("before", args.before_src)] if args.before_src else []) + [("after", None)]
        results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in variants}
        if args.in_process:
            for round_ in range(args.rounds):
                for name, src in variants:
                    results[name].append(run_child(name, src, tmp, round_, None, args, expect))
                    report_round(name, round_, results[name][-1], args.events)
        else:
            from eahub.core.broker import EmbeddedBroker, free_port
            from eahub.core.kafka import KafkaPublisher, producer_config
            from eahub.core.registry import agency_ids
            from eahub.core.settings import HubSettings

            with EmbeddedBroker(free_port(), log_path=tmp / "broker.log") as broker:
                settings = HubSettings(data_dir=tmp / "router", broker_port=broker.port)
                topics.create_topics(settings, agency_ids(settings.policies_dir))
                publisher = KafkaPublisher(producer_config(settings))
                for i in range(0, len(audited), 1000):
                    publisher.publish([OutboundMessage(t, k, v) for t, k, v in audited[i:i + 1000]])
                publisher.close()
                for round_ in range(args.rounds):
                    for name, src in variants:
                        results[name].append(run_child(name, src, tmp, round_, broker.port, args, expect))
                        report_round(name, round_, results[name][-1], args.events)
    for name, runs in results.items():
        print(f"{name:6}: " + "; ".join(
            f"{label} {spread([r[key] / r['seconds'] * scale for r in runs])}"
            for label, key, scale in (("entries/s", "entries", 1), ("events/s", "entries", args.events / expect[0]),
                                      ("cases/s", "cases", 1))
        ) + f"; CPU {spread([r['cpu_s'] * 1e6 / r['entries'] for r in runs])} µs per entry (min/median/max)")


def report_round(name: str, round_: int, r: dict[str, Any], events: int) -> None:
    print(f"  round {round_ + 1} {name:6}: {r['entries'] / r['seconds']:8,.0f} entries/s, "
          f"{events / r['seconds']:6,.0f} events/s, {r['cases'] / r['seconds']:7,.0f} cases/s "
          f"({r['seconds']:.2f} s, {r['batches']} batches)", flush=True)


def spread(values: list[float]) -> str:
    return f"{min(values):,.0f}/{statistics.median(values):,.0f}/{max(values):,.0f}"


if __name__ == "__main__":
    main()
