"""The board facade over a real SQLite database (temp files) with the in-memory audit adapter: arrival,
the queue, the case, the lifecycle with its timers, notes, fail-closed audit and agency isolation."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from eahub.board.model import (
    Actor,
    AuditUnavailable,
    CaseNotFound,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    QueueFilter,
    case_ref,
)
from eahub.board.tables import cases, timers
from tests.board_support import ADULTS, CHILDREN, POLICE, T0, BoardRig, make_rig, routed_case

pytestmark = pytest.mark.unit


@pytest.fixture
def rig(tmp_path: Path) -> BoardRig:
    return make_rig(tmp_path)


def _work_to_casework(rig: BoardRig, case_id: str) -> None:
    m1 = rig.actor("adults-m1")
    rig.board.command(m1, case_id, "claim", {})
    rig.board.command(m1, case_id, "acknowledge", {})
    rig.board.command(m1, case_id, "record_visit", {"agencies": [ADULTS, POLICE], "notes": "visited with PC"})
    rig.board.command(m1, case_id, "start_casework", {"plan": "weekly contact"})


def test_store_dedupes_on_case_id_and_starts_the_ack_clock(rig: BoardRig) -> None:
    rc = routed_case()
    assert rig.board.store_case(rc) is True
    assert rig.board.store_case(rc) is False
    with rig.board.engine.connect() as conn:
        assert conn.scalar(select(cases.c.state)) == "NEW"
        t = conn.execute(select(timers)).one()
    assert (t.kind, t.state) == ("ACK", "ACTIVE")
    assert t.due_at_ms == int((T0 + timedelta(minutes=60)).timestamp() * 1000)
    assert t.warn_at_ms == int((T0 + timedelta(minutes=45)).timestamp() * 1000)


def test_personal_content_is_stored_sealed(rig: BoardRig) -> None:
    rig.board.store_case(routed_case())
    raw = Path(rig.board_url.removeprefix("sqlite:///")).read_bytes()
    wal = Path(rig.board_url.removeprefix("sqlite:///") + "-wal")
    raw += wal.read_bytes() if wal.exists() else b""
    assert b"Alex Example" not in raw and b"neighbour in crisis" not in raw


def test_same_subject_cases_are_linked_as_also_open(rig: BoardRig) -> None:
    a, b = routed_case(), routed_case(reported_at=T0 + timedelta(minutes=5))
    other = routed_case(subject_ref="subj-other")
    for rc in (a, b, other):
        rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    head = rig.board.header(m1, b["case_id"])
    assert [lc.case_id for lc in head.also_open] == [a["case_id"]]
    assert [lc.case_id for lc in rig.board.header(m1, a["case_id"]).also_open] == [b["case_id"]]
    assert rig.board.header(m1, other["case_id"]).also_open == []


def test_queue_orders_by_due_time_and_highlights(rig: BoardRig) -> None:
    g3 = routed_case(grade="GRADE_3", subject_ref="s3")
    late = routed_case(reported_at=T0 - timedelta(minutes=90), subject_ref="s1")
    soon = routed_case(reported_at=T0 - timedelta(minutes=10), subject_ref="s2")
    for rc in (g3, late, soon):
        rig.board.store_case(rc)
    rows = rig.board.queue(rig.actor("adults-m1"), QueueFilter(), now=T0)
    assert [r.case_id for r in rows] == [late["case_id"], soon["case_id"], g3["case_id"]]
    assert rows[0].overdue and not rows[0].due_within_hour and rows[0].seconds_left == -1800
    assert rows[1].due_within_hour and not rows[1].overdue and rows[1].seconds_left == 50 * 60
    assert not rows[2].overdue and not rows[2].due_within_hour
    assert rows[0].case_ref == case_ref(late["case_id"])
    assert set(rows[0].__dataclass_fields__) == {"case_id", "case_ref", "category", "grade", "district", "due_at",
                                                 "state", "owner_login", "overdue", "due_within_hour", "seconds_left"}


def test_queue_filters(rig: BoardRig) -> None:
    a = routed_case(subject_ref="s1", district="Burnley", category="MISSING_PERSON")
    b = routed_case(subject_ref="s2", grade="GRADE_3")
    for rc in (a, b):
        rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    rig.board.command(m1, a["case_id"], "claim", {})
    q = rig.board.queue
    assert [r.case_id for r in q(m1, QueueFilter(mine=True))] == [a["case_id"]]
    assert [r.owner_login for r in q(m1, QueueFilter(mine=True))] == ["adults.member1"]
    assert [r.case_id for r in q(m1, QueueFilter(unallocated=True))] == [b["case_id"]]
    assert [r.case_id for r in q(m1, QueueFilter(grade="GRADE_3"))] == [b["case_id"]]
    assert [r.case_id for r in q(m1, QueueFilter(district="Burnley"))] == [a["case_id"]]
    assert [r.case_id for r in q(m1, QueueFilter(category="MISSING_PERSON"))] == [a["case_id"]]
    assert [r.case_id for r in q(m1, QueueFilter(states=("ALLOCATED",)))] == [a["case_id"]]
    assert q(rig.actor("police-m1"), QueueFilter()) == []


def test_header_is_non_personal_and_not_audited(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    head = rig.board.header(rig.actor("adults-m1"), rc["case_id"])
    assert head.withheld_fields == ["referrer", "health_details"] and head.isa_id == "isa-lancs-early-action"
    assert head.allowed_commands == ["triage", "not_for_board", "claim"]
    assert "Alex" not in repr(head) and "crisis" not in repr(head)
    assert rig.audit.records == []


def test_open_case_publishes_the_consultation_before_content(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    content = rig.board.open_case(m1, rc["case_id"], "triage")
    assert content.concern["subject"]["name"] == "Alex Example"
    assert content.concern["reported_at"] == "2026-11-20T16:00:00.000Z"
    [rec] = rig.audit.records
    assert rec["kind"] == "CONSULTATION" and rec["part"] == "concern" and rec["purpose"] == "triage"
    assert rec["actor"] == f"board:{ADULTS}:adults-m1" and rec["subject_ref"] == "subj-0001"
    assert rec["details"]["allocated_to_actor"] == "false"
    assert "Alex" not in json.dumps(rec, default=str)


def test_open_case_fails_closed_when_the_audit_trail_is_down(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    rig.audit.down = True
    with pytest.raises(AuditUnavailable):
        rig.board.open_case(rig.actor("adults-m1"), rc["case_id"], "triage")
    with pytest.raises(AuditUnavailable):
        rig.board.command(rig.actor("adults-m1"), rc["case_id"], "claim", {})
    head = rig.board.header(rig.actor("adults-m1"), rc["case_id"])
    assert head.state == "NEW" and head.version == 1 and head.owner_user_id is None


def test_purpose_rules(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    with pytest.raises(InvalidInput, match="reason"):
        rig.board.open_case(m1, rc["case_id"], "other")
    with pytest.raises(InvalidInput, match="purpose"):
        rig.board.open_case(m1, rc["case_id"], "curiosity")
    rig.board.open_case(m1, rc["case_id"], "other", reason="covering for a colleague")
    assert rig.audit.records[-1]["relationship"] == "self-claimed"
    assert "covering" not in json.dumps(rig.audit.records, default=str)


def test_a_case_worked_from_arrival_to_closure(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    cid = rc["case_id"]
    m1 = rig.actor("adults-m1")
    rig.board.command(m1, cid, "triage", {})
    head = rig.board.command(m1, cid, "claim", {}, expected_version=2)
    assert (head.state, head.owner_login, head.version) == ("ALLOCATED", "adults.member1", 3)
    rig.clock.advance(minutes=20)
    head = rig.board.command(m1, cid, "acknowledge", {})
    assert {t.kind: t.state for t in head.timers} == {"ACK": "DONE", "VISIT": "ACTIVE"}
    rig.board.command(m1, cid, "plan_visit", {"planned_at": (T0 + timedelta(hours=3)).isoformat(),
                                              "agencies": [POLICE]})
    head = rig.board.command(m1, cid, "record_visit", {"agencies": [ADULTS, POLICE], "notes": "seen at home"})
    assert {t.kind: t.state for t in head.timers}["VISIT"] == "DONE"
    head = rig.board.command(m1, cid, "start_casework", {"plan": "daily calls"})
    assert {t.kind for t in head.timers if t.state == "ACTIVE"} == {"REVIEW_W2", "REVIEW_W4", "CLOSURE"}
    head = rig.board.command(m1, cid, "record_review", {"week": 2, "text": "going well"})
    assert {t.kind: t.state for t in head.timers}["REVIEW_W2"] == "DONE"
    with pytest.raises(InvalidInput, match="outcome"):
        rig.board.command(m1, cid, "close", {"outcome": "HAPPY", "text": "x"})
    head = rig.board.command(m1, cid, "close", {"outcome": "SUPPORT_ACCEPTED", "text": "engaged well"})
    assert head.state == "CLOSED" and head.outcome == "SUPPORT_ACCEPTED"
    assert {t.state for t in head.timers if t.kind in ("REVIEW_W4", "CLOSURE")} == {"CANCELLED"}
    content = rig.board.open_case(m1, cid, "allocated")
    assert {v.status: v.joint for v in content.visits} == {"planned": True, "visited": True}
    assert {n.kind: n.text for n in content.notes} == {"plan": "daily calls", "review": "going well",
                                                       "outcome": "engaged well"}
    assert [v.notes for v in content.visits if v.status == "visited"] == ["seen at home"]
    transitions = [h.command for h in content.chronology if h.kind == "transition"]
    assert transitions == ["triage", "claim", "acknowledge", "plan_visit", "record_visit", "start_casework",
                           "record_review", "close"]
    actions = [r for r in rig.audit.of_kind("ACTION")]
    assert [(r["action"], r["from_state"], r["to_state"]) for r in actions][:2] == [
        ("triage", "NEW", "TRIAGED"), ("claim", "TRIAGED", "ALLOCATED")]
    [disclosure] = rig.audit.of_kind("DISCLOSURE")
    assert disclosure["details"]["recipient"] == POLICE
    blob = json.dumps(rig.audit.records, default=str)
    for secret in ("seen at home", "daily calls", "going well", "engaged well", "Alex"):
        assert secret not in blob
    # the originator sees the outcome, without notes
    [fb] = rig.board.feedback(rig.actor("police-m1"))
    assert fb.message == f"your concern LC-20261122-0042: outcome support accepted, by {ADULTS}"
    assert rig.board.feedback(rig.actor("adults-m1")) == []
    # reopen: manager only
    with pytest.raises(NotPermitted):
        rig.board.command(m1, cid, "reopen", {"reason": "new information"})
    rig.clock.advance(minutes=5)
    head = rig.board.command(rig.actor("adults-mgr"), cid, "reopen", {"reason": "new info"})
    assert head.state == "REOPENED"
    # a fresh acknowledge clock on the grade's time; the first one stays DONE
    assert sorted((t.kind, t.state) for t in head.timers if t.kind == "ACK") == [("ACK", "ACTIVE"), ("ACK", "DONE")]
    [fresh] = [t for t in head.timers if t.kind == "ACK" and t.state == "ACTIVE"]
    assert fresh.due_at == rig.clock.now + timedelta(minutes=60)  # Grade 2: acknowledge within the hour
    head = rig.board.command(rig.actor("adults-mgr"), cid, "allocate", {"to_user_id": "adults-m1"})
    head = rig.board.command(m1, cid, "acknowledge", {})
    assert [t.state for t in head.timers if t.kind == "ACK"] == ["DONE", "DONE"]


def test_illegal_and_stale_commands(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1, m2 = rig.actor("adults-m1"), rig.actor("adults-m2")
    with pytest.raises(IllegalTransition):
        rig.board.command(m1, rc["case_id"], "acknowledge", {})
    with pytest.raises(InvalidInput, match="name"):
        rig.board.command(m1, rc["case_id"], "delete", {})
    with pytest.raises(InvalidInput, match="reason"):
        rig.board.command(m1, rc["case_id"], "not_for_board", {})
    rig.board.command(m1, rc["case_id"], "claim", {})
    with pytest.raises(Conflict, match=r"already claimed by adults\.member1"):
        rig.board.command(m2, rc["case_id"], "claim", {})
    with pytest.raises(Conflict, match=r"already claimed by adults\.member1"):
        rig.board.command(m2, rc["case_id"], "claim", {}, expected_version=1)
    with pytest.raises(NotPermitted):
        rig.board.command(m2, rc["case_id"], "acknowledge", {})
    with pytest.raises(NotPermitted):
        rig.board.command(rig.actor("adults-ro"), rc["case_id"], "triage", {})


def test_allocate_and_reassign_notify_the_new_owner(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    mgr = rig.actor("adults-mgr")
    with pytest.raises(InvalidInput, match="to_user_id"):
        rig.board.command(mgr, rc["case_id"], "allocate", {"to_user_id": "police-m1"})
    with pytest.raises(InvalidInput, match="to_user_id"):
        rig.board.command(mgr, rc["case_id"], "allocate", {"to_user_id": "adults-ro"})
    rig.board.command(mgr, rc["case_id"], "allocate", {"to_user_id": "adults-m1"})
    head = rig.board.command(rig.actor("adults-m1"), rc["case_id"], "reassign", {"to_user_id": "adults-m2"})
    assert head.owner_user_id == "adults-m2" and head.state == "ALLOCATED"
    [n1] = rig.board.notifications(rig.actor("adults-m1"))
    [n2] = rig.board.notifications(rig.actor("adults-m2"))
    for n in (n1, n2):
        assert n.body.endswith(f"https://board.example/cases/{rc['case_id']}\n")
        assert "Alex" not in n.subject + n.body and case_ref(rc["case_id"]) in n.subject


def test_notes_are_append_only_with_corrections(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    first = rig.board.add_note(m1, rc["case_id"], "spoke to GP")
    rig.clock.advance(seconds=1)
    second = rig.board.add_note(m1, rc["case_id"], "spoke to practice nurse, not GP", significant=True,
                                corrects_note_id=first)
    with pytest.raises(InvalidInput, match="corrects_note_id"):
        rig.board.add_note(m1, rc["case_id"], "x", corrects_note_id="nope")
    notes = rig.board.open_case(m1, rc["case_id"], "team").notes
    assert [(n.note_id, n.text, n.corrects_note_id) for n in notes] == [
        (first, "spoke to GP", None), (second, "spoke to practice nurse, not GP", first)]
    assert not hasattr(rig.board, "edit_note") and not hasattr(rig.board, "delete_note")


def test_actions_with_owner_and_due(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1 = rig.actor("adults-m1")
    aid = rig.board.add_action(m1, rc["case_id"], "book GP appointment", "adults-m2", T0 + timedelta(days=2))
    rig.board.set_action_status(m1, rc["case_id"], aid, "done")
    with pytest.raises(InvalidInput, match="status"):
        rig.board.set_action_status(m1, rc["case_id"], aid, "maybe")
    with pytest.raises(InvalidInput, match="owner_user_id"):
        rig.board.add_action(m1, rc["case_id"], "x", "police-m1", T0)
    [a] = rig.board.open_case(m1, rc["case_id"], "team").actions
    assert (a.text, a.owner_login, a.status) == ("book GP appointment", "adults.member2", "done")
    assert len(rig.board.notifications(rig.actor("adults-m2"))) == 1


def test_manager_panels(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    m1, mgr = rig.actor("adults-m1"), rig.actor("adults-mgr")
    rig.board.open_case(m1, rc["case_id"], "triage")
    rig.board.command(m1, rc["case_id"], "claim", {})
    with pytest.raises(NotPermitted):
        rig.board.who_looked(m1, rc["case_id"])
    looked = rig.board.who_looked(mgr, rc["case_id"])
    assert [(v.login, v.purpose, v.part) for v in looked] == [("adults.manager", "supervision", "who-looked"),
                                                               ("adults.member1", "triage", "concern")]
    assert rig.audit.records[-1]["part"] == "who-looked"
    work = {w.login: w.open_cases for w in rig.board.workload(mgr)}
    assert work == {"adults.manager": 0, "adults.member1": 1, "adults.member2": 0}
    with pytest.raises(NotPermitted):
        rig.board.workload(m1)
    assert [p.login for p in rig.board.assignable(mgr)] == ["adults.manager", "adults.member1", "adults.member2"]


def test_co_workers_are_other_boards_holding_the_same_event_under_the_same_isa(rig: BoardRig) -> None:
    rc = routed_case()
    twin = routed_case(recipient=CHILDREN, event_id=rc["event_id"])
    rig.board.store_case(rc)
    rig.board.store_case(twin)
    head = rig.board.header(rig.actor("adults-m1"), rc["case_id"])
    assert [(c.agency, c.state) for c in head.co_workers] == [(CHILDREN, "NEW")]


def _outsider_calls(rig: BoardRig, outsider: Actor, cid: str) -> list[Callable[[], object]]:
    calls: list[Callable[[], object]] = [
        lambda: rig.board.header(outsider, cid),
        lambda: rig.board.open_case(outsider, cid, "team"),
        lambda: rig.board.command(outsider, cid, "claim", {}),
        lambda: rig.board.command(outsider, cid, "triage", {}),
        lambda: rig.board.add_note(outsider, cid, "hello"),
        lambda: rig.board.add_action(outsider, cid, "x", outsider.user_id, T0),
        lambda: rig.board.set_action_status(outsider, cid, "a", "done"),
    ]
    if outsider.role == "manager":
        calls.append(lambda: rig.board.who_looked(outsider, cid))
    return calls


def test_another_agencys_case_is_not_found_by_every_method(rig: BoardRig) -> None:
    rc = routed_case()
    rig.board.store_case(rc)
    cid = rc["case_id"]
    for uid in ("police-m1", "police-mgr", "childrens-mgr"):
        outsider = rig.actor(uid)
        for call in _outsider_calls(rig, outsider, cid):
            with pytest.raises(CaseNotFound):
                call()
        assert rig.board.queue(outsider, QueueFilter(include_closed=True)) == []
    with pytest.raises(CaseNotFound):
        rig.board.header(rig.actor("adults-m1"), "no-such-case")
    assert rig.audit.records == []
