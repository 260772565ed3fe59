"""Board figures, each min/median/max of 3 runs (printed, never asserted):

  stored/s     routed cases consumed from the board topics of an embedded broker and stored (sealed,
               timers, links), offsets committed after each batch
  queue ms     Board.queue() of one board holding --open open cases (SQLite file)
  sweep s      one sweep firing --timers due timers (breach + manager notification + activity outbox row)

Usage: .venv/bin/python bench/bench_board.py [--cases 2000] [--open 10000] [--timers 100000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer
from sqlalchemy import Engine, func, insert, select

from eahub.board import store, timers
from eahub.board.activity import InMemoryActivityPublisher
from eahub.board.consumer import SUBSCRIPTION, BoardConsumer
from eahub.board.crypto import KeyRing
from eahub.board.db import write_tx
from eahub.board.model import MANAGER, MEMBER, Actor, InMemoryDirectory, Person, QueueFilter
from eahub.board.service import Board
from eahub.board.sla import load_sla
from eahub.board.tables import cases, init_board_db, init_keys_db
from eahub.board.tables import timers as timer_table
from eahub.core import avro_codec, ids, schemas, topics
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.database import make_engine
from eahub.core.kafka import KafkaPublisher, consumer_config, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings

AGENCY = "lancashire-cc-adults"
T0 = datetime.now(UTC).replace(microsecond=0)
STAFF = [Person("m1", "member1", AGENCY, MEMBER, "m1@example"), Person("mgr", "manager", AGENCY, MANAGER,
                                                                       "mgr@example")]


def routed(i: int, reported_at: datetime) -> dict[str, Any]:
    event_id = str(uuid.uuid4())
    concern = {
        "event_id": event_id, "occurred_at": reported_at, "reported_at": reported_at,
        "source_agency": "lancashire-police", "source_reference": f"LC-{i:08d}", "category": "MENTAL_HEALTH",
        "grade": "GRADE_2" if i % 3 else "GRADE_3", "security_marking": "OFFICIAL", "district": "Preston",
        "subject": {"name": f"Person {i}", "date_of_birth": None, "nhs_number": None, "address": None},
        "narrative": "synthetic narrative for the benchmark", "health_details": None, "risk_factors": [],
        "linked_people": [], "referrer": None, "consent": {"status": "NOT_SOUGHT", "recorded_by": None},
        "restricted_to": None,
    }
    decision = ids.decision_id(event_id, "bench")
    return {"case_id": ids.case_id(event_id, AGENCY, decision), "event_id": event_id, "recipient": AGENCY,
            "source_agency": "lancashire-police", "subject_ref": f"subj-{i % 5000}", "decision_id": decision,
            "policy_revision": "bench", "isa_id": "isa-bench", "isa_version": "1", "lawful_basis": "bench",
            "purpose": "safeguarding", "shared_fields": ["subject", "narrative"], "withheld_fields": ["referrer"],
            "reasons": [], "override": False, "due_by": reported_at + timedelta(hours=1), "routed_at": reported_at,
            "concern": concern}


def new_board(folder: Path) -> Board:
    engine = make_engine(f"sqlite:///{folder / 'board.db'}")
    keys_engine = make_engine(f"sqlite:///{folder / 'board-keys.db'}")
    init_board_db(engine)
    init_keys_db(keys_engine)
    return Board(engine, KeyRing(keys_engine, os.urandom(32)), InMemoryActivityPublisher(), InMemoryDirectory(STAFF),
                 load_sla(), clock=lambda: T0)


def bulk_cases(board: Board, n: int, reported_at: datetime) -> list[str]:
    """n cases written in one transaction through the real insert path (one sealed concern reused)."""
    sample = routed(0, reported_at)
    sealed = store.seal_concern(board.keyring, sample)
    out = []
    with write_tx(board.engine) as conn:
        for i in range(n):
            rc = routed(i, reported_at - timedelta(minutes=i % 120))
            store.insert_case(conn, rc, sealed, board.sla, int(T0.timestamp() * 1000))
            out.append(rc["case_id"])
    return out


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(cases)) or 0)


def bench_consume(settings: HubSettings, n: int, run: int, folder: Path) -> float:
    board = new_board(folder)
    group = f"bench-board-{run}"
    consumer = Consumer(consumer_config(settings, group))
    consumer.subscribe(SUBSCRIPTION)
    bc = BoardConsumer(consumer, KafkaPublisher(producer_config(settings)), board)
    stop = threading.Event()
    started = time.perf_counter()
    first: list[float] = []
    original = bc.process_batch

    def timed(msgs: list[Any], s: threading.Event | None = None) -> None:
        if not first:
            first.append(time.perf_counter())
        original(msgs, s)

    bc.process_batch = timed  # type: ignore[method-assign]
    thread = threading.Thread(target=bc.run, args=(stop,), daemon=True)
    thread.start()
    while count(board.engine) < n and time.perf_counter() - started < 600:
        time.sleep(0.05)
    elapsed = time.perf_counter() - (first[0] if first else started)
    stop.set()
    thread.join(30)
    return n / elapsed


def bench_queue(board: Board) -> float:
    actor = Actor("m1", "member1", AGENCY, MEMBER, "s")
    t = time.perf_counter()
    rows = board.queue(actor, QueueFilter(), now=T0)
    elapsed = (time.perf_counter() - t) * 1000
    assert len(rows) >= 10_000 or rows
    return elapsed


def bench_sweep(folder: Path, n_timers: int, n_cases: int) -> float:
    board = new_board(folder)
    case_ids = bulk_cases(board, n_cases, T0 - timedelta(hours=3))
    with board.engine.begin() as conn:
        conn.execute(timer_table.delete())
        rows = []
        base = int((T0 - timedelta(hours=2)).timestamp() * 1000)
        for i in range(n_timers):
            cid = case_ids[i % n_cases]
            rows.append({"timer_id": ids.derive("bench-timer", str(i)), "case_id": cid, "agency": AGENCY,
                         "kind": timers.KINDS[i % 5], "start_at_ms": base, "warn_at_ms": base + 1000,
                         "due_at_ms": base + 2000, "state": "WARNED", "escalation_level": 0,
                         "next_fire_at_ms": base + 2000, "updated_at_ms": base})
            if len(rows) == 5000:
                conn.execute(insert(timer_table), rows)
                rows = []
        if rows:
            conn.execute(insert(timer_table), rows)
    t = time.perf_counter()
    result = board.sweep(T0)
    elapsed = time.perf_counter() - t
    assert result.breached == n_timers, result.breached
    return elapsed


def summary(name: str, unit: str, values: list[float]) -> None:
    print(f"{name:<40} min {min(values):10.1f}  median {statistics.median(values):10.1f}  "
          f"max {max(values):10.1f}  {unit}")


def three(fn: Callable[[int], float]) -> list[float]:
    return [fn(i) for i in range(3)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--timers", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        with EmbeddedBroker(port=free_port(), log_path=root / "tansu.log") as broker:
            settings = HubSettings(data_dir=root / "data", broker_port=broker.port)
            topics.create_topics(settings, agency_ids(settings.policies_dir))
            msgs = [OutboundMessage(topics.board(AGENCY), f"subj-{i % 5000}".encode(),
                                    avro_codec.encode(schemas.ROUTED_CASE, routed(i, T0))) for i in range(args.cases)]
            publisher = KafkaPublisher(producer_config(settings))
            for i in range(0, len(msgs), 1000):
                publisher.publish(msgs[i:i + 1000])
            publisher.close()
            stored = three(lambda r: bench_consume(settings, args.cases, r, _fresh(root, f"consume{r}")))
        queue_board = new_board(_fresh(root, "queue"))
        bulk_cases(queue_board, args.open, T0)
        queued = three(lambda _r: bench_queue(queue_board))
        n_cases = max(1, args.timers // 10)
        swept = three(lambda r: bench_sweep(_fresh(root, f"sweep{r}"), args.timers, n_cases))
    summary(f"cases stored/s from the topics ({args.cases})", "cases/s", stored)
    summary(f"queue() with {args.open} open cases", "ms", queued)
    summary(f"sweep firing {args.timers} timers", "s", swept)


def _fresh(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


if __name__ == "__main__":
    main()
