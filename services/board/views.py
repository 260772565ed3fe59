"""Reading the board database into the facade's views. Every query on cases is filtered by agency."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.engine import Row

from eahub.board import lifecycle
from eahub.board.crypto import KeyRing
from eahub.board.db import at
from eahub.board.model import (
    ActionView,
    Actor,
    CaseHeader,
    CoWorker,
    Directory,
    HistoryView,
    LinkedCase,
    NoteView,
    TimerView,
    VisitView,
    case_ref,
)
from eahub.board.tables import actions, case_links, cases, history, notes, timers, visits


class Logins:
    """user id -> login, looked up once per request."""

    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._cache: dict[str, str | None] = {}

    def __call__(self, user_id: str | None) -> str | None:
        if user_id is None:
            return None
        if user_id not in self._cache:
            person = self._directory.get(user_id)
            self._cache[user_id] = person.login if person is not None else None
        return self._cache[user_id]


def header(conn: Connection, row: Row[Any], actor: Actor, logins: Logins) -> CaseHeader:
    timer_rows = conn.execute(select(timers).where(timers.c.case_id == row.case_id)
                              .order_by(timers.c.start_at_ms, timers.c.kind)).all()
    linked = conn.execute(
        select(cases.c.case_id, cases.c.state)
        .select_from(case_links.join(cases, case_links.c.linked_case_id == cases.c.case_id))
        .where(case_links.c.case_id == row.case_id, case_links.c.agency == actor.agency,
               cases.c.agency == actor.agency, cases.c.state != "CLOSED")
        .order_by(cases.c.reported_at_ms)).all()
    co = conn.execute(select(cases.c.agency, cases.c.state).where(
        cases.c.event_id == row.event_id, cases.c.isa_id == row.isa_id, cases.c.agency != actor.agency)
        .order_by(cases.c.agency)).all()
    is_owner = row.owner_user_id is not None and row.owner_user_id == actor.user_id
    return CaseHeader(
        case_id=row.case_id, case_ref=case_ref(row.case_id), agency=row.agency, source_agency=row.source_agency,
        category=row.category, grade=row.grade, district=row.district, security_marking=row.security_marking,
        state=row.state, owner_user_id=row.owner_user_id, owner_login=logins(row.owner_user_id), version=row.version,
        due_at=at(row.due_by_ms), reported_at=at(row.reported_at_ms), routed_at=at(row.routed_at_ms),
        isa_id=row.isa_id, isa_version=row.isa_version, lawful_basis=row.lawful_basis, purpose=row.purpose,
        shared_fields=json.loads(row.shared_fields), withheld_fields=json.loads(row.withheld_fields),
        reasons=json.loads(row.reasons), override=bool(row.override),
        timers=[TimerView(t.timer_id, t.kind, t.state, at(t.due_at_ms), at(t.warn_at_ms), t.escalation_level)
                for t in timer_rows],
        allowed_commands=lifecycle.allowed(row.state, actor.role, is_owner, row.owner_user_id is not None),
        also_open=[LinkedCase(r.case_id, case_ref(r.case_id), r.state) for r in linked],
        co_workers=[CoWorker(r.agency, r.state) for r in co],
        closed_at=at(row.closed_at_ms) if row.closed_at_ms is not None else None,
        outcome=row.outcome, erased=row.erased_at_ms is not None,
    )


def content(conn: Connection, row: Row[Any], keyring: KeyRing, logins: Logins
            ) -> tuple[dict[str, Any], list[NoteView], list[ActionView], list[VisitView], list[HistoryView]]:
    concern_text = keyring.open(row.key_id, row.sealed_concern)
    concern: dict[str, Any] = json.loads(concern_text) if concern_text else {}
    note_views = [
        NoteView(n.note_id, n.author_user_id, logins(n.author_user_id), at(n.at_ms),
                 keyring.open(n.key_id, n.sealed_text), bool(n.significant), n.corrects_note_id, n.kind)
        for n in conn.execute(select(notes).where(notes.c.case_id == row.case_id, notes.c.agency == row.agency)
                              .order_by(notes.c.at_ms, notes.c.note_id))
    ]
    action_views = [
        ActionView(a.action_id, a.owner_user_id, logins(a.owner_user_id), at(a.due_ms), a.status,
                   keyring.open(a.key_id, a.sealed_text), at(a.created_at_ms))
        for a in conn.execute(select(actions).where(actions.c.case_id == row.case_id, actions.c.agency == row.agency)
                              .order_by(actions.c.due_ms))
    ]
    visit_views = [
        VisitView(v.visit_id, v.status, at(v.at_ms), json.loads(v.agencies), bool(v.joint),
                  keyring.open(v.key_id, v.sealed_notes))
        for v in conn.execute(select(visits).where(visits.c.case_id == row.case_id, visits.c.agency == row.agency)
                              .order_by(visits.c.at_ms))
    ]
    chronology = [
        HistoryView(at(h.at_ms), h.actor_user_id, logins(h.actor_user_id), h.kind, h.command,
                    h.from_state, h.to_state, json.loads(h.detail or "{}"))
        for h in conn.execute(select(history).where(history.c.case_id == row.case_id, history.c.agency == row.agency)
                              .order_by(history.c.at_ms, history.c.case_version, history.c.history_id))
    ]
    return concern, note_views, action_views, visit_views, chronology
