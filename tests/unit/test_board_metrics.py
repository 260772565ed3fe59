"""The board's Prometheus metrics on a private registry: open and overdue cases read from the database,
time to acknowledge, breaches, escalations and cases stored counted as they happen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from eahub.board.metrics import board_metrics
from tests.board_support import ADULTS, T0, make_rig, routed_case

pytestmark = pytest.mark.unit


def test_metrics(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    registry = CollectorRegistry()
    board_metrics(registry, rig.board)
    old = routed_case(subject_ref="a", reported_at=T0 - timedelta(days=400))
    g3 = routed_case(subject_ref="b", grade="GRADE_3")
    for rc in (old, g3):
        rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    rig.board.sweep(T0)  # the old one breaches
    rig.board.command(m1, g3["case_id"], "claim", {})
    rig.clock.now = T0 + timedelta(minutes=10)
    rig.board.command(m1, g3["case_id"], "acknowledge", {})
    text = generate_latest(registry).decode()
    assert "eahub_board_cases_stored_total 2.0" in text
    assert f'eahub_board_open_cases{{agency="{ADULTS}",grade="GRADE_2",state="NEW"}} 1.0' in text
    assert f'eahub_board_open_cases{{agency="{ADULTS}",grade="GRADE_3",state="ACKNOWLEDGED"}} 1.0' in text
    assert f'eahub_board_overdue_cases{{agency="{ADULTS}"}} 1.0' in text
    assert f'eahub_board_breaches_total{{agency="{ADULTS}"}} 1.0' in text
    assert f'eahub_board_escalations_total{{agency="{ADULTS}"}} 1.0' in text
    assert f'eahub_board_time_to_acknowledge_seconds_count{{agency="{ADULTS}"}} 1.0' in text
    assert f'eahub_board_time_to_acknowledge_seconds_bucket{{agency="{ADULTS}",le="900.0"}} 1.0' in text
    assert "Alex" not in text and "subj" not in text
