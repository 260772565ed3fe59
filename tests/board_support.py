"""Test support for the board: routed cases built as the router builds them (Avro record form), a board over
real SQLite or PostgreSQL databases, a controllable clock, and a directory of people."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eahub.board.activity import InMemoryActivityPublisher
from eahub.board.crypto import KeyRing
from eahub.board.model import MANAGER, MEMBER, READONLY, Actor, InMemoryDirectory, Person
from eahub.board.service import Board
from eahub.board.sla import SlaRules, load_sla
from eahub.board.tables import init_board_db, init_keys_db
from eahub.core import ids
from eahub.core.database import make_engine
from tests.helpers import concern_event

T0 = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
POLICE = "lancashire-police"
ADULTS = "lancashire-cc-adults"
CHILDREN = "lancashire-cc-childrens"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


def routed_case(recipient: str = ADULTS, subject_ref: str | None = "subj-0001", reported_at: datetime = T0,
                grade: str = "GRADE_2", event_id: str | None = None, **concern_overrides: Any) -> dict[str, Any]:
    event_id = event_id or str(uuid.uuid4())
    minutes = 60 if grade == "GRADE_2" else 48 * 60
    concern = concern_event(event_id=event_id, reported_at=reported_at, occurred_at=reported_at - timedelta(minutes=10),
                            grade=grade, **concern_overrides)
    concern["referrer"] = None  # the router never shares the referrer
    decision = ids.decision_id(event_id, "rev-1")
    return {
        "case_id": ids.case_id(event_id, recipient, decision), "event_id": event_id, "recipient": recipient,
        "source_agency": concern["source_agency"], "subject_ref": subject_ref, "decision_id": decision,
        "policy_revision": "rev-1", "isa_id": "isa-lancs-early-action", "isa_version": "2.1",
        "lawful_basis": "UK GDPR 6(1)(e); DPA 2018 Sch 1 para 18", "purpose": "safeguarding",
        "shared_fields": ["event_id", "category", "grade", "district", "subject", "narrative"],
        "withheld_fields": ["referrer", "health_details"], "reasons": ["isa permits safeguarding share"],
        "override": False, "due_by": reported_at + timedelta(minutes=minutes), "routed_at": reported_at,
        "concern": concern,
    }


def people(agency: str = ADULTS) -> list[Person]:
    short = agency.split("-")[-1]
    return [
        Person(f"{short}-m1", f"{short}.member1", agency, MEMBER, f"m1@{short}.example"),
        Person(f"{short}-m2", f"{short}.member2", agency, MEMBER, f"m2@{short}.example"),
        Person(f"{short}-mgr", f"{short}.manager", agency, MANAGER, f"mgr@{short}.example"),
        Person(f"{short}-ro", f"{short}.reader", agency, READONLY, None),
    ]


def actor(person: Person) -> Actor:
    return Actor(person.user_id, person.login, person.agency, person.role, "sess-" + person.user_id)


@dataclass
class BoardRig:
    board: Board
    clock: Clock
    audit: InMemoryActivityPublisher
    directory: InMemoryDirectory
    board_url: str
    keys_url: str
    by_id: dict[str, Person] = field(default_factory=dict)

    def actor(self, user_id: str) -> Actor:
        return actor(self.by_id[user_id])


def make_rig(tmp_path: Path, board_url: str | None = None, keys_url: str | None = None,
             sla: SlaRules | None = None) -> BoardRig:
    board_url = board_url or f"sqlite:///{tmp_path / 'board.db'}"
    keys_url = keys_url or f"sqlite:///{tmp_path / 'board-keys.db'}"
    engine, keys_engine = make_engine(board_url), make_engine(keys_url)
    init_board_db(engine)
    init_keys_db(keys_engine)
    everyone = people(ADULTS) + people(POLICE) + people(CHILDREN)
    directory = InMemoryDirectory(everyone)
    clock = Clock()
    audit = InMemoryActivityPublisher()
    board = Board(engine, KeyRing(keys_engine, os.urandom(32)), audit, directory, sla or load_sla(),
                  base_url="https://board.example", clock=clock)
    return BoardRig(board, clock, audit, directory, board_url, keys_url, {p.user_id: p for p in everyone})
