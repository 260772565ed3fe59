"""SLA rules as data, and the timer sweep with a controllable clock: warn at 75%, breach at due, escalate
to managers, re-escalate every interval, each step once; satisfying actions stop their timer in the same
transaction; sweep records reach the audit trail through the outbox relay."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from eahub.board.outbox import relay_once
from eahub.board.settings import BoardSettings
from eahub.board.sla import DEFAULT_FILE, load_sla
from eahub.board.tables import activity_outbox, notifications, timers
from tests.board_support import ADULTS, POLICE, T0, BoardRig, make_rig, routed_case

pytestmark = pytest.mark.unit


@pytest.fixture
def rig(tmp_path: Path) -> BoardRig:
    return make_rig(tmp_path)


def _at(minutes: float) -> object:
    return T0 + timedelta(minutes=minutes)


def _notified(rig: BoardRig) -> list[tuple[str, str]]:
    with rig.board.engine.connect() as conn:
        return sorted((r.user_id, r.subject) for r in conn.execute(select(notifications)))


def test_default_sla_data() -> None:
    sla = load_sla()
    assert sla.acknowledge_ms(ADULTS, "GRADE_2") == 60 * 60_000
    assert sla.acknowledge_ms(ADULTS, "GRADE_3") == 48 * 60 * 60_000
    assert sla.offset_ms(ADULTS, "review_w2_minutes") == 14 * 24 * 60 * 60_000
    assert sla.offset_ms(ADULTS, "review_w4_minutes") == 28 * 24 * 60 * 60_000
    assert sla.offset_ms(ADULTS, "closure_minutes") == 42 * 24 * 60 * 60_000
    assert sla.warn_share(ADULTS) == 0.75 and sla.reescalate_ms(ADULTS) == 30 * 60_000
    assert sla.acknowledge_override_ms(ADULTS, "GRADE_2") is None
    assert "NO_FURTHER_ACTION" in sla.outcomes


def test_per_board_override_and_time_scale(tmp_path: Path) -> None:
    data = json.loads(DEFAULT_FILE.read_text())
    data["agencies"] = {ADULTS: {"acknowledge_minutes": {"GRADE_2": 30}, "warn_share": 0.5}}
    path = tmp_path / "sla.json"
    path.write_text(json.dumps(data))
    sla = load_sla(path, time_scale=60)
    assert sla.acknowledge_override_ms(ADULTS, "GRADE_2") == 30 * 1000  # 30 min / 60
    assert sla.acknowledge_override_ms(POLICE, "GRADE_2") is None
    assert sla.warn_share(ADULTS) == 0.5 and sla.warn_share(POLICE) == 0.75
    assert sla.reescalate_ms(POLICE) == 30 * 1000
    rig = make_rig(tmp_path, sla=sla)
    rig.board.store_case(routed_case())
    police_case = routed_case(recipient=POLICE)
    rig.board.store_case(police_case)
    with rig.board.engine.connect() as conn:
        dues = {r.agency: (r.due_at_ms, r.warn_at_ms) for r in conn.execute(select(timers))}
    t0 = int(T0.timestamp() * 1000)
    assert dues[ADULTS] == (t0 + 30_000, t0 + 15_000)  # the board's own override, scaled
    assert dues[POLICE] == (t0 + 60_000, t0 + 45_000)  # the routed due_by (60 min), scaled


def test_sla_file_setting_and_bad_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"default": {"acknowledge_minutes": {}}, "outcomes": {"X": "x"}}))
    with pytest.raises(ValueError, match="visit_minutes"):
        load_sla(bad)
    data = json.loads(DEFAULT_FILE.read_text())
    data["agencies"] = {ADULTS: {"ack": 1}}
    bad.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="unknown keys"):
        load_sla(bad)
    monkeypatch.setenv("EAHUB_BOARD_SLA_FILE", str(bad))
    monkeypatch.setenv("EAHUB_BOARD_TIME_SCALE", "120")
    settings = BoardSettings()
    assert settings.sla_file == bad and settings.time_scale == 120.0


def test_warn_breach_escalate_and_re_escalate_each_once(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    assert rig.board.sweep(_at(44.9)).fired == []
    warned = rig.board.sweep(_at(45))
    assert (warned.warned, warned.notifications) == (1, 3)  # unallocated: the whole team
    assert {u for u, _ in _notified(rig)} == {"adults-m1", "adults-m2", "adults-mgr"}
    assert rig.board.sweep(_at(50)).fired == []
    breached = rig.board.sweep(_at(60))
    assert (breached.breached, breached.notifications) == (1, 1)  # the managers
    assert rig.board.sweep(_at(89)).fired == []
    again = rig.board.sweep(_at(90))
    assert again.escalated == 1 and again.fired[0][1:] == ("escalate", 2)
    assert rig.board.sweep(_at(90)).fired == []
    assert rig.board.sweep(_at(120)).fired[0][1:] == ("escalate", 3)
    subjects = [s for u, s in _notified(rig) if u == "adults-mgr"]
    assert len(subjects) == 4 and all("Alex" not in s for s in subjects)
    with rig.board.engine.connect() as conn:
        t = conn.execute(select(timers)).one()
        assert (t.state, t.escalation_level) == ("BREACHED", 3)
        outbox = [json.loads(r.record) for r in conn.execute(select(activity_outbox))]
    assert sorted(r["action"] for r in outbox) == ["sla_breach", "sla_escalate", "sla_escalate", "sla_warn"]
    assert {r["kind"] for r in outbox} == {"ACTION"} and {r["actor"] for r in outbox} == {f"board:{ADULTS}:clock"}
    header = rig.board.header(rig.actor("adults-m1"), rc["case_id"])
    assert [(t.kind, t.state, t.escalation_level) for t in header.timers] == [("ACK", "BREACHED", 3)]


def test_warn_goes_to_the_owner_when_there_is_one(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    rig.board.command(rig.actor("adults-m1"), rc["case_id"], "claim", {})
    rig.board.sweep(_at(46))
    assert [u for u, _ in _notified(rig)] == ["adults-m1"]


def test_a_late_arrival_breaches_at_once(rig: BoardRig) -> None:
    rig.board.store_case(routed_case(reported_at=T0 - timedelta(hours=2)))
    result = rig.board.sweep(_at(0))
    assert (result.warned, result.breached) == (0, 1)


def test_acknowledge_stops_the_clock_in_the_same_transaction(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    rig.board.command(m1, rc["case_id"], "claim", {})
    rig.clock.now = _at(30)
    rig.board.command(m1, rc["case_id"], "acknowledge", {})
    assert rig.board.sweep(_at(61)).fired == []
    # the visit timer (24 h for grade 2) runs instead
    assert rig.board.sweep(_at(30 + 18 * 60)).warned == 1
    rig.clock.now = _at(30 + 19 * 60)
    rig.board.command(m1, rc["case_id"], "record_visit", {"agencies": [ADULTS]})
    assert rig.board.sweep(_at(30 + 25 * 60)).fired == []


def test_casework_timers_and_close_cancels_them(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    for name, args in [("claim", {}), ("acknowledge", {}), ("record_visit", {"agencies": [ADULTS, POLICE]}),
                       ("start_casework", {"plan": "p"})]:
        rig.board.command(m1, rc["case_id"], name, args)
    day = 24 * 60
    rig.board.command(m1, rc["case_id"], "record_review", {"week": 2, "text": "ok"})
    kinds = {f[0] for f in rig.board.sweep(_at(22 * day)).fired}
    with rig.board.engine.connect() as conn:
        by_id = {r.timer_id: r.kind for r in conn.execute(select(timers))}
    assert {by_id[k] for k in kinds} == {"REVIEW_W4"}  # warned at 75% of 28 days; week 2 was done
    rig.board.command(m1, rc["case_id"], "close", {"outcome": "NO_FURTHER_ACTION", "text": "done"})
    assert rig.board.sweep(_at(60 * day)).fired == []


def test_sweep_records_are_relayed_once_with_deterministic_ids(rig: BoardRig) -> None:
    rig.board.store_case(routed_case())
    rig.board.sweep(_at(45))
    rig.board.sweep(_at(60))
    assert relay_once(rig.board.engine, rig.audit, 0) == 2
    assert relay_once(rig.board.engine, rig.audit, 0) == 0
    assert [r["action"] for r in rig.audit.records] == ["sla_warn", "sla_breach"]
    rig.audit.down = True
    rig.board.sweep(_at(90))
    with pytest.raises(Exception, match="unavailable"):
        relay_once(rig.board.engine, rig.audit, 0)
    rig.audit.down = False
    assert relay_once(rig.board.engine, rig.audit, 0) == 1
    with rig.board.engine.connect() as conn:
        assert conn.scalar(select(func.count()).where(activity_outbox.c.published_at_ms.is_(None))) == 0


def test_observer_counts_breaches_and_escalations(rig: BoardRig) -> None:
    seen: list[str] = []

    class Spy:
        def case_stored(self, agency: str) -> None:
            seen.append("stored")

        def acknowledged(self, agency: str, seconds: float) -> None:
            seen.append(f"ack:{seconds:.0f}")

        def breached(self, agency: str) -> None:
            seen.append("breached")

        def escalated(self, agency: str) -> None:
            seen.append("escalated")

    rig.board.observer = Spy()
    rc = routed_case()
    rig.board.store_case(rc)
    rig.board.sweep(_at(60))
    rig.board.sweep(_at(90))
    rig.board.command(rig.actor("adults-m1"), rc["case_id"], "claim", {})
    rig.clock.now = _at(95)
    rig.board.command(rig.actor("adults-m1"), rc["case_id"], "acknowledge", {})
    assert seen == ["stored", "breached", "escalated", "escalated", "ack:5700"]
