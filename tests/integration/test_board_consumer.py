"""The board consumer on the real embedded broker, with the board database on SQLite and on PostgreSQL:
routed cases arrive by themselves, a replay stores nothing twice, offsets are committed only after the store,
garbage and a case on the wrong board go to the dead-letter topic, and the service goes on."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import func, select

from eahub.board.bootstrap import build_board
from eahub.board.consumer import SUBSCRIPTION, BoardConsumer
from eahub.board.model import QueueFilter
from eahub.board.settings import BoardSettings
from eahub.board.tables import cases
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import KafkaPublisher, consumer_config, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.board_support import ADULTS, CHILDREN, actor, people, routed_case
from tests.helpers import read_all

pytestmark = pytest.mark.integration


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _consumer(settings: HubSettings, group: str) -> Consumer:
    c = Consumer(consumer_config(settings, group, **{"topic.metadata.refresh.interval.ms": 2000}))
    c.subscribe(SUBSCRIPTION)
    return c


def _run(bc: BoardConsumer) -> tuple[threading.Event, threading.Thread]:
    stop = threading.Event()
    thread = threading.Thread(target=bc.run, args=(stop,), daemon=True)
    thread.start()
    return stop, thread


def test_cases_arrive_by_themselves_and_a_replay_stores_nothing_twice(
        hub_settings: HubSettings, database_url: str, tmp_path: Path) -> None:
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    run_id = uuid.uuid4().hex[:8]
    mine = [routed_case(subject_ref=f"subj-{run_id}-{i % 3}") for i in range(12)]
    mine.append(routed_case(recipient=CHILDREN, subject_ref=f"subj-{run_id}-c"))
    wrong_board = routed_case(subject_ref=f"subj-{run_id}-w")
    msgs = [OutboundMessage(topics.board(rc["recipient"]), rc["subject_ref"].encode(),
                            avro_codec.encode(schemas.ROUTED_CASE, rc)) for rc in mine]
    msgs.append(msgs[0])  # a redelivered duplicate
    msgs.append(OutboundMessage(topics.board(ADULTS), b"garbage", b"\x00garbage " + run_id.encode(),
                                [("ce_id", run_id.encode())]))
    msgs.append(OutboundMessage(topics.board(CHILDREN), b"w", avro_codec.encode(schemas.ROUTED_CASE, wrong_board),
                                [("ce_id", (run_id + "-w").encode())]))
    publisher = KafkaPublisher(producer_config(hub_settings))
    publisher.publish(msgs)
    publisher.close()

    parts = build_board(hub_settings, BoardSettings(database_url=database_url))
    group = f"board-test-{run_id}"
    bc = BoardConsumer(_consumer(hub_settings, group), KafkaPublisher(producer_config(hub_settings)), parts.board)
    ids = [rc["case_id"] for rc in mine]

    def stored() -> int:
        with parts.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).where(cases.c.case_id.in_(ids))) or 0)

    stop, thread = _run(bc)
    try:
        assert wait_for(lambda: stored() == len(mine)), "cases not stored"
        assert wait_for(lambda: bc.stats.dead_letters >= 2)
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()
    assert bc.stats.duplicates >= 1
    with parts.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(cases.c.case_id == wrong_board["case_id"])) == 0
    # the queue of the adults' board shows them, linked by subject
    m1 = people(ADULTS)[0]
    queue = [r for r in parts.board.queue(actor(m1), QueueFilter()) if r.case_id in ids]
    assert len(queue) == 12
    assert len(parts.board.header(actor(m1), mine[3]["case_id"]).also_open) == 3  # 0, 6, 9 share subject 0

    dead = [m for m in read_all(hub_settings, topics.DEADLETTER, expect=2, timeout_s=15)
            if dict(m.headers() or []).get("ce_id", b"").decode() in (run_id, run_id + "-w")]
    kinds = sorted(dict(m.headers())["eahub_error_kind"].decode() for m in dead)
    assert kinds == ["SOURCE_MISMATCH", "UNDECODABLE"]

    # offsets were committed after the store: the same group resumes past every message
    probe = Consumer(consumer_config(hub_settings, group))
    committed = probe.committed([TopicPartition(topics.board(ADULTS), p) for p in range(4)], timeout=10)
    probe.close()
    assert sum(max(tp.offset, 0) for tp in committed) > 0

    # a replay from the start (a new group) stores nothing twice
    replay = BoardConsumer(_consumer(hub_settings, group + "-replay"), KafkaPublisher(producer_config(hub_settings)),
                           parts.board)
    stop, thread = _run(replay)
    try:
        assert wait_for(lambda: replay.stats.duplicates >= len(mine)), "replay not consumed"
    finally:
        stop.set()
        thread.join(20)
    assert stored() == len(mine)
    parts.close()
    with parts.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(cases).where(cases.c.case_id.in_(ids))) == len(mine)
