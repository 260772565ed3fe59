"""The schema-compiled Avro writer (core.avro_writer) against fastavro's `schemaless_writer` on the parsed schema,
in one run, alternating, over the router's real output records (routed cases, AuditEntries) for generated events.
Prints CPU µs per record of each (process time: steadier than wall time on a shared machine), min/median/max
over the rounds.

Usage: .venv/bin/python bench/bench_avro_writer.py [--events 1000] [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Message
from fastavro import schemaless_writer

from eahub.core import avro_codec, schemas, topics
from eahub.core.avro_writer import compile_writer
from eahub.core.event_json import from_json
from eahub.core.messages import InMemoryPublisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.ingest.generator import generate
from eahub.policy.bootstrap import build_engine
from eahub.router.service import Router


def router_records(n: int) -> dict[str, list[dict[str, Any]]]:
    """The records of the router's outputs for `n` generated events, by schema."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = HubSettings(data_dir=Path(tmp))
        pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
        start = datetime.now(UTC) - timedelta(days=max(1, n // 134 + 1))
        msgs = [Message(topic=topics.inbound(r["source_agency"]), partition=0, offset=i,
                        value=avro_codec.encode(schemas.CONCERN_EVENT, r))
                for i, r in enumerate(from_json(o) for o in generate(count=n, seed=7, start=start))]
        publisher = InMemoryPublisher()
        router = Router(consumer=None, publisher=publisher, engine=build_engine(settings),  # type: ignore[arg-type]
                        pseudonymiser=pseudo)
        for i in range(0, n, 500):
            router.handle_batch(msgs[i:i + 500], threading.Event())
    out: dict[str, list[dict[str, Any]]] = {schemas.ROUTED_CASE: [], schemas.AUDIT_ENTRIES: []}
    for m in publisher.sent:
        name, record = avro_codec.decode(m.value)
        out.setdefault(name, []).append(record)
    return out


def with_fastavro(parsed: dict[str, Any], records: list[dict[str, Any]]) -> float:
    started = time.process_time()
    for record in records:
        buf = io.BytesIO()
        schemaless_writer(buf, parsed, record)
        buf.getvalue()
    return (time.process_time() - started) / len(records) * 1e6


def compiled(parsed: dict[str, Any], records: list[dict[str, Any]]) -> float:
    write = compile_writer(parsed)
    started = time.process_time()
    for record in records:
        write(record)
    return (time.process_time() - started) / len(records) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    records = router_records(args.events)
    for name in (schemas.ROUTED_CASE, schemas.AUDIT_ENTRIES):
        parsed = schemas.load(name).parsed
        times: dict[str, list[float]] = {"fastavro": [], "compiled": []}
        for _ in range(args.rounds):
            times["fastavro"].append(with_fastavro(parsed, records[name]))
            times["compiled"].append(compiled(parsed, records[name]))
        print(f"{name}: {len(records[name])} records")
        for how, ts in times.items():
            print(f"  {how:9}: min {min(ts):7.1f}  median {statistics.median(ts):7.1f}  max {max(ts):7.1f} µs/record")
        ratio = statistics.median(times["fastavro"]) / statistics.median(times["compiled"])
        print(f"  speed-up (median): {ratio:.1f}x")


if __name__ == "__main__":
    main()
