"""Two board processes sweeping at the same moment (two threads, two engines) on SQLite and PostgreSQL:
every warning, breach and re-escalation fires exactly once, with one notification per recipient and one
activity record per step."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from eahub.board import timers
from eahub.board.tables import activity_outbox, notifications
from eahub.core.database import make_engine
from tests.board_support import T0, BoardRig, make_rig, routed_case

pytestmark = pytest.mark.integration
N = 400


def _two_sweeps(rig_url: str, rig: BoardRig, now_ms: int) -> list[timers.SweepResult]:
    board = rig.board
    engines = [board.engine, make_engine(rig_url)]
    barrier = threading.Barrier(2)
    results: list[timers.SweepResult] = []

    def sweep(engine: Engine) -> None:
        barrier.wait()
        results.append(timers.sweep(engine, board.sla, board.directory, now_ms, board.base_url, batch=50))

    threads = [threading.Thread(target=sweep, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_two_sweepers_fire_every_step_once(database_url: str, tmp_path: Path) -> None:
    rig = make_rig(tmp_path, board_url=database_url)
    for i in range(N):
        rig.board.store_case(routed_case(subject_ref=f"s{i}", reported_at=T0 - timedelta(minutes=50)))
    ms0 = int(T0.timestamp() * 1000)
    warn = _two_sweeps(database_url, rig, ms0)  # 50 of 60 minutes gone: every timer warns
    assert sum(r.warned for r in warn) == N and sum(r.breached for r in warn) == 0
    breach = _two_sweeps(database_url, rig, ms0 + 10 * 60_000)
    assert sum(r.breached for r in breach) == N
    again = _two_sweeps(database_url, rig, ms0 + 40 * 60_000)
    assert sum(r.escalated for r in again) == N
    fired = [f for r in warn + breach + again for f in r.fired]
    assert len(fired) == len(set(fired)) == 3 * N
    with rig.board.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(activity_outbox)) == 3 * N
        # warn: 3 team members each; breach and re-escalation: 1 manager each
        assert conn.scalar(select(func.count()).select_from(notifications)) == N * (3 + 1 + 1)
