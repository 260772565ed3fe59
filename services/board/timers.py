"""The clock: SLA timers as rows beside each case, and the sweep that fires them.

A timer is ACTIVE until its warn time (start + warn_share x (due - start)), then WARNED (the owner, or the
team when nobody owns the case, is told), BREACHED at its due time (the agency's managers are told: the first
escalation), and re-escalated every `reescalate` interval while still breached. Satisfying a timer (DONE) or
closing the case (CANCELLED) happens in the transaction of the action that does it.

`sweep` fires each due step exactly once even with several board processes: SQLite takes the write lock
first (`BEGIN IMMEDIATE`), PostgreSQL locks the due rows with `FOR UPDATE SKIP LOCKED`; every firing writes
the timer's new state, one notification per recipient (deterministic message id) and an ACTION activity
record to the outbox, all in one transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from eahub.board import activity
from eahub.board.db import at, dumps, write_tx
from eahub.board.model import MANAGER, MEMBER, Directory, Person
from eahub.board.outbox import case_message, notification_id, notification_row, queue_activity, queue_notifications
from eahub.board.sla import SlaRules
from eahub.board.tables import ACTIVE_TIMER_STATES, cases, history, timers
from eahub.core import ids
from eahub.core.database import is_postgres

ACK = "ACK"
VISIT = "VISIT"
REVIEW_W2 = "REVIEW_W2"
REVIEW_W4 = "REVIEW_W4"
CLOSURE = "CLOSURE"
KINDS = (ACK, VISIT, REVIEW_W2, REVIEW_W4, CLOSURE)
ACTIVE, WARNED, BREACHED, DONE, CANCELLED = "ACTIVE", "WARNED", "BREACHED", "DONE", "CANCELLED"
_LABEL = {ACK: "acknowledge", VISIT: "visit", REVIEW_W2: "week-2 review", REVIEW_W4: "week-4 review",
          CLOSURE: "closure"}


class SweepObserver(Protocol):
    def breached(self, agency: str) -> None: ...

    def escalated(self, agency: str) -> None: ...


@dataclass
class SweepResult:
    warned: int = 0
    breached: int = 0
    escalated: int = 0  # re-escalations after the breach
    notifications: int = 0
    fired: list[tuple[str, str, int]] = field(default_factory=list)  # (timer id, step, level)


def timer_id(case_id: str, kind: str, start_ms: int) -> str:
    return ids.derive("board-timer", case_id, kind, str(start_ms))


def create(conn: Connection, *, case_id: str, agency: str, kind: str, start_ms: int, due_ms: int,
           warn_share: float, now_ms: int) -> str:
    warn_ms = start_ms + int(warn_share * max(0, due_ms - start_ms))
    tid = timer_id(case_id, kind, start_ms)
    if conn.scalar(select(timers.c.timer_id).where(timers.c.timer_id == tid)):
        return tid
    conn.execute(insert(timers).values(
        timer_id=tid, case_id=case_id, agency=agency, kind=kind, start_at_ms=start_ms, warn_at_ms=warn_ms,
        due_at_ms=due_ms, state=ACTIVE, escalation_level=0, next_fire_at_ms=warn_ms, updated_at_ms=now_ms))
    return tid


def finish(conn: Connection, case_id: str, kinds: Collection[str] | None, now_ms: int, state: str = DONE) -> int:
    """Stop the case's running timers of these kinds (all kinds when None)."""
    cond = (timers.c.case_id == case_id) & timers.c.state.in_(ACTIVE_TIMER_STATES)
    if kinds is not None:
        cond &= timers.c.kind.in_(list(kinds))
    n = conn.execute(update(timers).where(cond).values(state=state, next_fire_at_ms=None, updated_at_ms=now_ms))
    return int(n.rowcount or 0)


def _due_rows(conn: Connection, engine: Engine, now_ms: int, batch: int) -> list[Any]:
    q = (select(timers.c.timer_id, timers.c.case_id, timers.c.agency, timers.c.kind, timers.c.state,
                timers.c.escalation_level, timers.c.warn_at_ms, timers.c.due_at_ms, timers.c.next_fire_at_ms)
         .where(timers.c.state.in_(ACTIVE_TIMER_STATES), timers.c.next_fire_at_ms <= now_ms)
         .order_by(timers.c.next_fire_at_ms).limit(batch))
    if is_postgres(engine):
        q = q.with_for_update(skip_locked=True)
    return list(conn.execute(q).all())


class _Recipients:
    def __init__(self, directory: Directory) -> None:
        self._directory = directory
        self._cache: dict[tuple[str, tuple[str, ...]], list[Person]] = {}

    def of(self, agency: str, roles: tuple[str, ...]) -> list[Person]:
        key = (agency, roles)
        if key not in self._cache:
            self._cache[key] = self._directory.of_agency(agency, roles)
        return self._cache[key]

    def owner_or_team(self, agency: str, owner: str | None) -> list[Person]:
        if owner:
            person = self._directory.get(owner)
            if person is not None and person.active and person.agency == agency:
                return [person]
        return self.of(agency, (MEMBER, MANAGER))


def sweep(engine: Engine, sla: SlaRules, directory: Directory, now_ms: int, base_url: str,
          observer: SweepObserver | None = None, batch: int = 1000) -> SweepResult:
    """Fire every timer step due at `now_ms`, each exactly once across concurrent sweepers."""
    result = SweepResult()
    recipients = _Recipients(directory)
    while True:
        with write_tx(engine) as conn:
            rows = _due_rows(conn, engine, now_ms, batch)
            if not rows:
                break
            owners = _case_facts(conn, {r.case_id for r in rows})
            _fire(conn, rows, owners, sla, recipients, now_ms, base_url, result)
        if observer is not None:
            agency_of = {r.timer_id: r.agency for r in rows}
            for tid, step, _level in result.fired[-len(rows):]:
                agency = agency_of[tid]
                if step == "breach":
                    observer.breached(agency)
                    observer.escalated(agency)
                elif step == "escalate":
                    observer.escalated(agency)
        if len(rows) < batch:
            break
    return result


def _case_facts(conn: Connection, case_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    ids_list = list(case_ids)
    for i in range(0, len(ids_list), 500):
        for r in conn.execute(select(cases.c.case_id, cases.c.owner_user_id, cases.c.event_id, cases.c.subject_ref,
                                     cases.c.isa_id, cases.c.source_agency, cases.c.state, cases.c.version)
                              .where(cases.c.case_id.in_(ids_list[i:i + 500]))):
            out[r.case_id] = dict(r._mapping)
    return out


def _fire(conn: Connection, rows: list[Any], facts: dict[str, dict[str, Any]], sla: SlaRules,
          recipients: _Recipients, now_ms: int, base_url: str, result: SweepResult) -> None:
    updates: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    hist: list[dict[str, Any]] = []
    notes: list[dict[str, Any]] = []
    for r in rows:
        reesc = sla.reescalate_ms(r.agency)
        case = facts.get(r.case_id, {"case_id": r.case_id})
        if r.state == ACTIVE and now_ms < r.due_at_ms:
            step, state, level, nxt = "warn", WARNED, 0, r.due_at_ms
            people = recipients.owner_or_team(r.agency, case.get("owner_user_id"))
            headline = f"{_LABEL[r.kind]} due soon"
            result.warned += 1
        elif r.state in (ACTIVE, WARNED):
            step, state, level, nxt = "breach", BREACHED, 1, max(r.due_at_ms, now_ms) + reesc
            people = recipients.of(r.agency, (MANAGER,))
            headline = f"{_LABEL[r.kind]} overdue (escalated)"
            result.breached += 1
        else:
            step, state, level = "escalate", BREACHED, r.escalation_level + 1
            nxt = r.next_fire_at_ms + reesc
            if nxt <= now_ms:
                nxt = now_ms + reesc
            people = recipients.of(r.agency, (MANAGER,))
            headline = f"{_LABEL[r.kind]} still overdue (escalation {level})"
            result.escalated += 1
        result.fired.append((r.timer_id, step, level))
        updates.append({"b_id": r.timer_id, "b_old_state": r.state, "b_old_level": r.escalation_level,
                        "b_state": state, "b_level": level, "b_next": nxt, "b_now": now_ms})
        subject, body = case_message(base_url, r.case_id, headline)
        notes += [notification_row(message_id=notification_id(r.timer_id, step, str(level), person.user_id),
                                   person=person, case_id=r.case_id, subject=subject, body=body, now_ms=now_ms)
                  for person in people]
        details = {"timer": r.kind, "level": str(level), "due_at": at(r.due_at_ms).isoformat(),
                   "notified": str(len(people))}
        records.append(activity.record(
            activity.ACTION, occurred_at=at(now_ms), actor=activity.actor_id(r.agency, "clock"), agency=r.agency,
            id_parts=(r.timer_id, step, str(level)), case=case, role="system", action=f"sla_{step}",
            outcome={"warn": "warned", "breach": "breached", "escalate": "escalated"}[step],
            from_state=case.get("state"), to_state=case.get("state"), details=details))
        hist.append({"history_id": ids.derive("board-history", r.timer_id, step, str(level)), "case_id": r.case_id,
                     "agency": r.agency, "at_ms": now_ms, "case_version": case.get("version", 0),
                     "actor_user_id": "clock", "kind": "timer",
                     "command": f"sla_{step}", "from_state": None, "to_state": None,
                     "detail": dumps({"timer": r.kind, "level": str(level)})})
    stmt = (update(timers)
            .where(timers.c.timer_id == bindparam("b_id"), timers.c.state == bindparam("b_old_state"),
                   timers.c.escalation_level == bindparam("b_old_level"))
            .values(state=bindparam("b_state"), escalation_level=bindparam("b_level"),
                    next_fire_at_ms=bindparam("b_next"), updated_at_ms=bindparam("b_now")))
    conn.execute(stmt, updates)
    conn.execute(insert(history), hist)
    result.notifications += queue_notifications(conn, notes)
    queue_activity(conn, records, now_ms)
