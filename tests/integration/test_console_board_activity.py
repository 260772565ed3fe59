"""The console's review findings and SLA figures against board-core's REAL activity records: a board (facade,
accounts) records views and actions; each record goes through `audit.board_activity.to_ledger_entry` into the
real ledger (as the audit service does from `eahub.board-activity`), and the console finds the self-claimed
view, the views of a case not allocated to the viewer, the out-of-hours view and the view after closure, and
times the acknowledgement from the router's DISCLOSURE."""

from __future__ import annotations

from pathlib import Path

import pytest

from eahub.audit.board_activity import to_ledger_entry
from eahub.audit.console import flows
from eahub.audit.console.reviews import review_queue
from eahub.audit.console.settings import ConsoleSettings
from eahub.board.model import MEMBER
from eahub.board.web.accounts import person
from eahub.core.audit_entries import audit_entry
from tests.board_support import ADULTS, T0, actor, routed_case
from tests.console_support import seed
from tests.web.board_rig import make_web_rig

pytestmark = pytest.mark.integration


def test_findings_and_sla_from_real_board_activity(tmp_path: Path) -> None:
    s = seed(tmp_path / "audit")
    rig = make_web_rig(tmp_path)
    board, clock = rig.board, rig.clock
    case = routed_case(recipient=ADULTS, subject_ref=s.subject_ref)
    cid = str(case["case_id"])
    assert board.store_case(case)
    owner = actor(person(rig.users[(ADULTS, MEMBER)]))
    other = actor(person(rig.users[(ADULTS, "manager")]))
    board.command(owner, cid, "claim", {})
    clock.advance(minutes=7)
    board.command(owner, cid, "acknowledge", {})
    board.open_case(owner, cid, "allocated")
    board.open_case(other, cid, "other", reason="covering for a colleague")  # self-claimed
    board.open_case(other, cid, "allocated")  # says allocated, is not the owner
    clock.advance(hours=7)  # 23:07 UK time
    board.open_case(owner, cid, "allocated")
    board.command(owner, cid, "record_visit", {"agencies": [ADULTS]})
    board.command(owner, cid, "close", {"outcome": "NO_FURTHER_ACTION", "text": "done"})
    clock.advance(days=3, hours=-8)  # a Monday morning, after closure
    board.open_case(other, cid, "supervision")

    disclosure = audit_entry("DISCLOSURE", id_facts=(cid,), actor="router", occurred_at=T0,
                             event_id=case["event_id"], subject_ref=s.subject_ref, source_agency="lancashire-police",
                             recipient=ADULTS, isa_id=case["isa_id"], case_id=cid)
    entries = [disclosure] + [to_ledger_entry(r) for r in rig.audit.records]
    s.parts.store.append(entries, clock.now)

    items = review_queue(s.parts.store, s.parts.vault, ConsoleSettings(unallocated_views_threshold=1))
    mine = [i for i in items if i.case_id == cid or any(e in {x["entry_id"] for x in entries} for e in i.entries)]
    kinds = {(i.kind, i.actor.split(":")[-1]) for i in mine}
    assert ("self-claimed", other.user_id) in kinds
    assert ("unallocated-views", other.user_id) in kinds
    assert ("out-of-hours", owner.user_id) in kinds
    assert ("after-closure", other.user_id) in kinds
    assert ("unallocated-views", owner.user_id) not in kinds  # the owner's own views are allocated

    sla = {r[0]: r for r in flows.sla_by_board(flows.load(s.parts.store)).rows}
    assert sla[ADULTS][1] >= 1  # the acknowledgement, timed from the router's disclosure
