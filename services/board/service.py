"""The board facade: the one place where agency isolation, roles, the lifecycle, sealing and the audit
record meet. The web layer calls only this class. Every query on cases is filtered by `actor.agency`; a case
of another agency is `CaseNotFound`, exactly like a case that does not exist.

Fail closed: `open_case` publishes its CONSULTATION record and only then decrypts; a change publishes its
ACTION record inside the database transaction, before the commit, so a broker that does not acknowledge
rolls the change back (AuditUnavailable) and nothing is changed."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError

from eahub.board import activity, commands, lifecycle, store, timers, views
from eahub.board.activity import ActivityPublisher
from eahub.board.crypto import KeyRing, subject_of
from eahub.board.db import at, dumps, ms, write_tx
from eahub.board.model import (
    ACTION_STATUSES,
    MANAGER,
    MEMBER,
    OPEN_STATES,
    PURPOSES,
    READONLY,
    AccessView,
    Actor,
    CaseContent,
    CaseHeader,
    CaseNotFound,
    Conflict,
    Directory,
    FeedbackView,
    InvalidInput,
    NotificationView,
    NotPermitted,
    Person,
    QueueFilter,
    QueueRow,
    WorkloadRow,
    case_ref,
)
from eahub.board.outbox import case_message, notification_id, queue_notification
from eahub.board.sla import SlaRules
from eahub.board.tables import ACTIVE_TIMER_STATES, access_log, actions, cases, feedback, notes, notifications, visits
from eahub.board.tables import timers as timers_table
from eahub.core import ids

PARTS = ("summary", "concern", "narrative", "notes", "chronology", "actions", "visits", "print", "export")
_RELATIONSHIP = {"allocated": "allocated", "team": "team", "triage": "triage", "supervision": "supervision",
                 "other": "self-claimed"}


class BoardObserver(Protocol):
    def case_stored(self, agency: str) -> None: ...

    def acknowledged(self, agency: str, seconds: float) -> None: ...

    def breached(self, agency: str) -> None: ...

    def escalated(self, agency: str) -> None: ...


class NullObserver:
    def case_stored(self, agency: str) -> None:
        pass

    def acknowledged(self, agency: str, seconds: float) -> None:
        pass

    def breached(self, agency: str) -> None:
        pass

    def escalated(self, agency: str) -> None:
        pass


@dataclass
class Board:
    engine: Engine
    keyring: KeyRing
    activity: ActivityPublisher
    directory: Directory
    sla: SlaRules
    base_url: str = "http://127.0.0.1:8090"
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    agency_names: Mapping[str, str] = field(default_factory=dict)
    retention_days: int = 6 * 365
    observer: BoardObserver = field(default_factory=NullObserver)

    # ---- arrival -------------------------------------------------------------------------------------

    def store_case(self, routed_case: dict[str, Any]) -> bool:
        """Store one routed case (decoded RoutedCase record). False when it was stored before."""
        with self.engine.connect() as conn:
            if store.exists(conn, routed_case["case_id"]):
                return False
        sealed = store.seal_concern(self.keyring, routed_case)
        try:
            with write_tx(self.engine) as conn:
                if store.exists(conn, routed_case["case_id"]):
                    return False
                store.insert_case(conn, routed_case, sealed, self.sla, self._now_ms())
        except IntegrityError:
            return False  # a concurrent writer stored it first
        self.observer.case_stored(routed_case["recipient"])
        return True

    # ---- reading -------------------------------------------------------------------------------------

    def queue(self, actor: Actor, flt: QueueFilter, now: datetime | None = None) -> list[QueueRow]:
        now_ms = ms(now) if now is not None else self._now_ms()
        cond = cases.c.agency == actor.agency
        if flt.states:
            cond &= cases.c.state.in_(list(flt.states))
        elif not flt.include_closed:
            cond &= cases.c.state.in_(list(OPEN_STATES))
        if flt.grade:
            cond &= cases.c.grade == flt.grade
        if flt.category:
            cond &= cases.c.category == flt.category
        if flt.district:
            cond &= cases.c.district == flt.district
        if flt.mine:
            cond &= cases.c.owner_user_id == actor.user_id
        if flt.unallocated:
            cond &= cases.c.owner_user_id.is_(None)
        running_due = (select(timers_table.c.case_id, func.min(timers_table.c.due_at_ms).label("due"))
                       .where(timers_table.c.agency == actor.agency,
                              timers_table.c.state.in_(list(ACTIVE_TIMER_STATES)))
                       .group_by(timers_table.c.case_id).subquery())
        with self.engine.connect() as conn:
            rows = conn.execute(select(cases.c.case_id, cases.c.category, cases.c.grade, cases.c.district,
                                       cases.c.state, cases.c.owner_user_id, cases.c.due_by_ms, running_due.c.due)
                                .select_from(cases.outerjoin(running_due, running_due.c.case_id == cases.c.case_id))
                                .where(cond)).all()
        logins = views.Logins(self.directory)
        out = []
        for r in rows:
            running = r.due is not None
            due_ms = int(r.due) if running else r.due_by_ms
            left = (due_ms - now_ms) // 1000
            out.append(QueueRow(r.case_id, case_ref(r.case_id), r.category, r.grade, r.district, at(due_ms), r.state,
                                logins(r.owner_user_id), running and left < 0, running and 0 <= left < 3600,
                                int(left)))
        out.sort(key=lambda q: (q.due_at, q.case_id))
        return out

    def header(self, actor: Actor, case_id: str) -> CaseHeader:
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
            return views.header(conn, row, actor, views.Logins(self.directory))

    def open_case(self, actor: Actor, case_id: str, purpose: str, reason: str | None = None,
                  part: str = "concern") -> CaseContent:
        if purpose not in PURPOSES:
            raise InvalidInput("purpose must be one of " + ", ".join(PURPOSES))
        if purpose == "other" and not (reason or "").strip():
            raise InvalidInput("reason is required when the purpose is other")
        if part not in PARTS:
            raise InvalidInput("part is not a known part of a case")
        now = self.clock()
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
        details = {"allocated_to_actor": str(row.owner_user_id == actor.user_id).lower()}
        if purpose == "other":
            details["reason_given"] = "true"  # the reason itself may be personal; it is not logged
        rec = activity.record(
            activity.CONSULTATION, occurred_at=now, actor=activity.actor_id(actor.agency, actor.user_id),
            agency=actor.agency, id_parts=(case_id, actor.user_id, actor.session_ref, part, str(ms(now))),
            case=dict(row._mapping), role=actor.role, session_ref=actor.session_ref, part=part, purpose=purpose,
            relationship=_RELATIONSHIP[purpose], outcome="shown", details=details)
        self.activity.publish([rec])  # fail closed: no acknowledgement, no content
        self._log_access(actor, row, now, purpose, _RELATIONSHIP[purpose], part, rec["activity_id"])
        logins = views.Logins(self.directory)
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
            head = views.header(conn, row, actor, logins)
            concern, note_views, action_views, visit_views, chronology = views.content(conn, row, self.keyring, logins)
        return CaseContent(head, concern, note_views, action_views, visit_views, chronology)

    def who_looked(self, actor: Actor, case_id: str) -> list[Any]:
        if actor.role != MANAGER:
            raise NotPermitted("only a team manager may see who looked at a case")
        now = self.clock()
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
        rec = activity.record(
            activity.CONSULTATION, occurred_at=now, actor=activity.actor_id(actor.agency, actor.user_id),
            agency=actor.agency, id_parts=(case_id, actor.user_id, actor.session_ref, "who-looked", str(ms(now))),
            case=dict(row._mapping), role=actor.role, session_ref=actor.session_ref, part="who-looked",
            purpose="supervision", relationship="supervision", outcome="shown")
        self.activity.publish([rec])
        self._log_access(actor, row, now, "supervision", "supervision", "who-looked", rec["activity_id"])
        logins = views.Logins(self.directory)
        with self.engine.connect() as conn:
            rows = conn.execute(select(access_log).where(access_log.c.case_id == case_id,
                                                         access_log.c.agency == actor.agency)
                                .order_by(access_log.c.at_ms.desc())).all()
        return [AccessView(r.user_id, logins(r.user_id), r.role, at(r.at_ms), r.purpose, r.relationship, r.part)
                for r in rows]

    def feedback(self, actor: Actor) -> list[FeedbackView]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback).where(feedback.c.agency == actor.agency)
                                .order_by(feedback.c.at_ms.desc())).all()
        out = []
        for r in rows:
            label = self.sla.outcomes.get(r.outcome, r.outcome)
            ref = r.source_reference or case_ref(r.case_id)
            by = self.agency_names.get(r.by_agency, r.by_agency)
            out.append(FeedbackView(r.feedback_id, case_ref(r.case_id), r.source_reference, r.outcome, label, by,
                                    at(r.at_ms), f"your concern {ref}: outcome {label}, by {by}"))
        return out

    def notifications(self, actor: Actor) -> list[NotificationView]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(notifications).where(notifications.c.agency == actor.agency,
                                                            notifications.c.user_id == actor.user_id)
                                .order_by(notifications.c.created_at_ms.desc()).limit(100)).all()
        return [NotificationView(r.message_id, r.case_id, r.subject, r.body, at(r.created_at_ms),
                                 at(r.sent_at_ms) if r.sent_at_ms is not None else None) for r in rows]

    def workload(self, actor: Actor) -> list[WorkloadRow]:
        if actor.role != MANAGER:
            raise NotPermitted("only a team manager may see the team's workload")
        now_ms = self._now_ms()
        with self.engine.connect() as conn:
            counts = {r.owner_user_id: (r.n, r.overdue or 0) for r in conn.execute(
                select(cases.c.owner_user_id, func.count().label("n"),
                       func.sum(func.cast(cases.c.due_by_ms < now_ms, type_=cases.c.version.type)).label("overdue"))
                .where(cases.c.agency == actor.agency, cases.c.state.in_(list(OPEN_STATES)),
                       cases.c.owner_user_id.is_not(None))
                .group_by(cases.c.owner_user_id))}
        people = self.directory.of_agency(actor.agency, (MEMBER, MANAGER))
        return [WorkloadRow(p.user_id, p.login, p.role, *counts.get(p.user_id, (0, 0)))
                for p in sorted(people, key=lambda p: p.login)]

    def assignable(self, actor: Actor) -> list[Person]:
        if actor.role == READONLY:
            raise NotPermitted("a read-only role may not allocate cases")
        return sorted(self.directory.of_agency(actor.agency, (MEMBER, MANAGER)), key=lambda p: p.login)

    # ---- changing ------------------------------------------------------------------------------------

    def command(self, actor: Actor, case_id: str, name: str, args: dict[str, Any],
                expected_version: int | None = None) -> CaseHeader:
        self._may_change(actor)
        if name not in lifecycle.RULES:
            raise InvalidInput("name is not a board command")
        now = self.clock()
        now_ms = ms(now)
        checked = commands.check(name, args or {}, now, self.sla.outcomes)
        with self.engine.connect() as conn:
            before = self._case(conn, actor, case_id)
        subject = subject_of(before.subject_ref, before.case_id)
        sealed = {kind: self.keyring.seal(subject, txt) for kind, txt in checked.texts.items()}
        try:
            with write_tx(self.engine) as conn:
                row = self._case(conn, actor, case_id)
                self._apply(conn, actor, row, name, checked, sealed, expected_version, now, now_ms)
        except _Lost as lost:
            raise Conflict(self._conflict_message(actor, case_id, name)) from lost
        if name == "acknowledge":
            self.observer.acknowledged(actor.agency, max(0.0, (now_ms - before.reported_at_ms) / 1000))
        return self.header(actor, case_id)

    def add_note(self, actor: Actor, case_id: str, text: str, significant: bool = False,
                 corrects_note_id: str | None = None) -> str:
        self._may_change(actor)
        body = commands.text({"text": text}, "text") or ""
        now = self.clock()
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
            if corrects_note_id is not None and conn.scalar(select(notes.c.note_id).where(
                    notes.c.note_id == corrects_note_id, notes.c.case_id == case_id,
                    notes.c.agency == actor.agency)) is None:
                raise InvalidInput("corrects_note_id is not a note of this case")
        key_id, blob = self.keyring.seal(subject_of(row.subject_ref, case_id), body)
        note_id = ids.new_event_id()
        with write_tx(self.engine) as conn:
            row = self._case(conn, actor, case_id)
            conn.execute(insert(notes).values(note_id=note_id, case_id=case_id, agency=actor.agency,
                                              author_user_id=actor.user_id, at_ms=ms(now), kind="note",
                                              significant=significant, corrects_note_id=corrects_note_id,
                                              key_id=key_id, sealed_text=blob))
            detail = {"note_id": note_id, "significant": str(significant).lower()}
            if corrects_note_id:
                detail["corrects_note_id"] = corrects_note_id
            self._history(conn, row, actor, now, "note", "add_note", None, None, detail)
            self.activity.publish([self._action(actor, row, now, "add_note", row.state, row.state, detail,
                                                (note_id,))])
        return note_id

    def add_action(self, actor: Actor, case_id: str, text: str, owner_user_id: str, due: datetime) -> str:
        self._may_change(actor)
        body = commands.text({"text": text}, "text") or ""
        due_at = commands.moment({"due": due}, "due")
        owner = self.directory.get(owner_user_id)
        if owner is None or owner.agency != actor.agency or owner.role not in (MEMBER, MANAGER) or not owner.active:
            raise InvalidInput("owner_user_id is not a member of this board")
        now = self.clock()
        with self.engine.connect() as conn:
            row = self._case(conn, actor, case_id)
        key_id, blob = self.keyring.seal(subject_of(row.subject_ref, case_id), body)
        action_id = ids.new_event_id()
        with write_tx(self.engine) as conn:
            row = self._case(conn, actor, case_id)
            conn.execute(insert(actions).values(action_id=action_id, case_id=case_id, agency=actor.agency,
                                                owner_user_id=owner_user_id, due_ms=ms(due_at), status="open",
                                                created_at_ms=ms(now), key_id=key_id, sealed_text=blob))
            detail = {"action_id": action_id, "owner_user_id": owner_user_id, "due": due_at.isoformat()}
            self._history(conn, row, actor, now, "action", "add_action", None, None, detail)
            if owner_user_id != actor.user_id:
                self._notify(conn, owner, case_id, "an action on this case was given to you",
                             (action_id, owner_user_id), ms(now))
            self.activity.publish([self._action(actor, row, now, "add_action", row.state, row.state, detail,
                                                (action_id,))])
        return action_id

    def set_action_status(self, actor: Actor, case_id: str, action_id: str, status: str) -> None:
        self._may_change(actor)
        if status not in ACTION_STATUSES:
            raise InvalidInput("status must be open, done or cancelled")
        now = self.clock()
        with write_tx(self.engine) as conn:
            row = self._case(conn, actor, case_id)
            old = conn.scalar(select(actions.c.status).where(actions.c.action_id == action_id,
                                                             actions.c.case_id == case_id,
                                                             actions.c.agency == actor.agency))
            if old is None:
                raise InvalidInput("action_id is not an action of this case")
            conn.execute(update(actions).where(actions.c.action_id == action_id).values(status=status))
            detail = {"action_id": action_id, "from": old, "to": status}
            self._history(conn, row, actor, now, "action", "set_action_status", None, None, detail)
            self.activity.publish([self._action(actor, row, now, "set_action_status", row.state, row.state,
                                                detail, (action_id, status, str(ms(now))))])

    # ---- erasure and retention (see erasure.py) ------------------------------------------------------

    def erase_subject(self, subject_ref: str, request_id: str, actor: str) -> int:
        from eahub.board.erasure import erase_subject

        return erase_subject(self, subject_ref, request_id, actor)

    def apply_retention(self, now: datetime | None = None) -> int:
        from eahub.board.erasure import apply_retention

        return apply_retention(self, now or self.clock())

    def sweep(self, now: datetime | None = None) -> timers.SweepResult:
        return timers.sweep(self.engine, self.sla, self.directory, ms(now or self.clock()), self.base_url,
                            self.observer)

    # ---- inside ----------------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return ms(self.clock())

    def _case(self, conn: Connection, actor: Actor, case_id: str) -> Row[Any]:
        row = store.case_row(conn, actor.agency, case_id) if isinstance(case_id, str) else None
        if row is None:
            raise CaseNotFound("no such case on this board")
        return row

    @staticmethod
    def _may_change(actor: Actor) -> None:
        if actor.role not in (MEMBER, MANAGER):
            raise NotPermitted("a read-only role may not change cases")

    def _conflict_message(self, actor: Actor, case_id: str, name: str) -> str:
        with self.engine.connect() as conn:
            row = store.case_row(conn, actor.agency, case_id)
        if row is not None and row.owner_user_id and name in ("claim", "allocate"):
            login = views.Logins(self.directory)(row.owner_user_id) or "another user"
            return f"already claimed by {login}"
        return "the case was changed by someone else: reload it and try again"

    def _apply(self, conn: Connection, actor: Actor, row: Row[Any], name: str, a: commands.Args,
               sealed: dict[str, tuple[str, bytes]], expected_version: int | None, now: datetime,
               now_ms: int) -> None:
        if expected_version is not None and row.version != expected_version:
            raise _Lost()
        rule = lifecycle.RULES[name]
        if name in ("claim", "allocate") and row.owner_user_id and row.state not in rule.sources:
            raise _Lost()  # someone claimed it first
        has_owner = row.owner_user_id is not None
        to_state = lifecycle.next_state(row.state, name, actor.role, row.owner_user_id == actor.user_id, has_owner)
        values: dict[str, Any] = {"state": to_state, "version": row.version + 1}
        detail: dict[str, str] = {}
        new_owner: Person | None = None
        if name == "claim":
            values["owner_user_id"] = actor.user_id
        elif name in ("allocate", "reassign"):
            new_owner = self.directory.get(a.to_user_id or "")
            if (new_owner is None or new_owner.agency != actor.agency or not new_owner.active
                    or new_owner.role not in (MEMBER, MANAGER)):
                raise InvalidInput("to_user_id is not a member of this board")
            if name == "reassign" and new_owner.user_id == row.owner_user_id:
                raise InvalidInput("to_user_id already owns the case")
            values["owner_user_id"] = new_owner.user_id
            detail["to_user_id"] = new_owner.user_id
            if row.owner_user_id:
                detail["from_user_id"] = row.owner_user_id
        elif name == "acknowledge":
            values["acknowledged_at_ms"] = now_ms
        elif name == "close":
            values["closed_at_ms"] = now_ms
            values["outcome"] = a.outcome
            detail["outcome"] = a.outcome or ""
        elif name == "reopen":
            values["closed_at_ms"] = None
        res = conn.execute(update(cases).where(cases.c.case_id == row.case_id, cases.c.agency == actor.agency,
                                               cases.c.state == row.state, cases.c.version == row.version)
                           .values(**values))
        if res.rowcount != 1:
            raise _Lost()
        self._effects(conn, actor, row, name, a, sealed, now_ms, detail)
        if new_owner is not None and new_owner.user_id != actor.user_id:
            self._notify(conn, new_owner, row.case_id, "allocated to you", (str(row.version + 1), name), now_ms)
        self._history(conn, row, actor, now, "transition", name, row.state, to_state, detail)
        records = [self._action(actor, row, now, name, row.state, to_state, detail, (str(row.version + 1),))]
        if name == "close":
            records.append(self._feedback(conn, actor, row, a.outcome or "", now, now_ms))
        self.activity.publish(records)  # inside the transaction: no acknowledgement, no change

    def _effects(self, conn: Connection, actor: Actor, row: Row[Any], name: str, a: commands.Args,
                 sealed: dict[str, tuple[str, bytes]], now_ms: int, detail: dict[str, str]) -> None:
        agency, grade = row.agency, row.grade
        if name == "not_for_board":
            timers.finish(conn, row.case_id, [timers.ACK], now_ms)
        elif name == "acknowledge":
            timers.finish(conn, row.case_id, [timers.ACK], now_ms)
            timers.create(conn, case_id=row.case_id, agency=agency, kind=timers.VISIT, start_ms=now_ms,
                          due_ms=now_ms + self.sla.visit_ms(agency, grade), warn_share=self.sla.warn_share(agency),
                          now_ms=now_ms)
        elif name in ("plan_visit", "record_visit"):
            status = "planned" if name == "plan_visit" else "visited"
            joint = any(x != agency for x in a.agencies)
            key_id, blob = sealed.get("visit", (None, None))
            conn.execute(insert(visits).values(
                visit_id=ids.derive("board-visit", row.case_id, str(row.version + 1)), case_id=row.case_id,
                agency=agency, status=status, at_ms=ms(a.when) if a.when else now_ms, agencies=dumps(a.agencies),
                joint=joint, key_id=key_id, sealed_notes=blob))
            detail.update({"agencies": ",".join(a.agencies), "joint": str(joint).lower()})
            if name == "record_visit":
                timers.finish(conn, row.case_id, [timers.VISIT], now_ms)
        elif name == "start_casework":
            for kind, key in ((timers.REVIEW_W2, "review_w2_minutes"), (timers.REVIEW_W4, "review_w4_minutes"),
                              (timers.CLOSURE, "closure_minutes")):
                timers.create(conn, case_id=row.case_id, agency=agency, kind=kind, start_ms=now_ms,
                              due_ms=now_ms + self.sla.offset_ms(agency, key), warn_share=self.sla.warn_share(agency),
                              now_ms=now_ms)
        elif name == "record_review":
            timers.finish(conn, row.case_id, [timers.REVIEW_W2 if a.week == 2 else timers.REVIEW_W4], now_ms)
        elif name == "reopen":  # back in the queue: it must be picked up and acknowledged again, on the grade's clock
            timers.create(conn, case_id=row.case_id, agency=agency, kind=timers.ACK, start_ms=now_ms,
                          due_ms=now_ms + self.sla.acknowledge_ms(agency, grade),
                          warn_share=self.sla.warn_share(agency), now_ms=now_ms)
            detail["week"] = str(a.week)
        elif name == "close":
            timers.finish(conn, row.case_id, None, now_ms, state=timers.CANCELLED)
        for kind, (key_id, blob) in sealed.items():
            if kind == "visit":
                continue
            conn.execute(insert(notes).values(
                note_id=ids.derive("board-note", row.case_id, str(row.version + 1), kind), case_id=row.case_id,
                agency=agency, author_user_id=actor.user_id, at_ms=now_ms, kind=kind, significant=True,
                corrects_note_id=None, key_id=key_id, sealed_text=blob))

    def _feedback(self, conn: Connection, actor: Actor, row: Row[Any], outcome: str, now: datetime,
                  now_ms: int) -> dict[str, Any]:
        fid = ids.derive("board-feedback", row.case_id, str(row.version + 1))
        conn.execute(insert(feedback).values(feedback_id=fid, agency=row.source_agency, case_id=row.case_id,
                                             source_reference=row.source_reference, outcome=outcome,
                                             by_agency=row.agency, at_ms=now_ms))
        return activity.record(
            activity.DISCLOSURE, occurred_at=now, actor=activity.actor_id(actor.agency, actor.user_id),
            agency=actor.agency, id_parts=(row.case_id, "feedback", str(row.version + 1)), case=dict(row._mapping),
            role=actor.role, session_ref=actor.session_ref, part="outcome", purpose="feedback",
            relationship="feedback", outcome="disclosed", action="close",
            details={"recipient": row.source_agency, "outcome": outcome, "feedback_id": fid})

    def _action(self, actor: Actor, row: Row[Any], now: datetime, name: str, from_state: str | None,
                to_state: str | None, detail: dict[str, str], id_parts: tuple[str, ...]) -> dict[str, Any]:
        return activity.record(
            activity.ACTION, occurred_at=now, actor=activity.actor_id(actor.agency, actor.user_id),
            agency=actor.agency, id_parts=(row.case_id, name, *id_parts), case=dict(row._mapping), role=actor.role,
            session_ref=actor.session_ref, part=None, relationship="allocated" if row.owner_user_id == actor.user_id
            else "team", outcome="changed", action=name, from_state=from_state, to_state=to_state, details=detail)

    def _history(self, conn: Connection, row: Row[Any], actor: Actor, now: datetime, kind: str, command: str,
                 from_state: str | None, to_state: str | None, detail: dict[str, str]) -> None:
        from eahub.board.tables import history

        conn.execute(insert(history).values(
            history_id=ids.new_event_id(), case_id=row.case_id, agency=row.agency, at_ms=ms(now),
            case_version=row.version + 1 if kind == "transition" else row.version,
            actor_user_id=actor.user_id, kind=kind, command=command, from_state=from_state, to_state=to_state,
            detail=dumps(detail)))

    def _notify(self, conn: Connection, person: Person, case_id: str, headline: str, id_parts: tuple[str, ...],
                now_ms: int) -> None:
        subject, body = case_message(self.base_url, case_id, headline)
        queue_notification(conn, message_id=notification_id(case_id, *id_parts, person.user_id), person=person,
                           case_id=case_id, subject=subject, body=body, now_ms=now_ms)

    def _log_access(self, actor: Actor, row: Row[Any], now: datetime, purpose: str, relationship: str, part: str,
                    access_id: str) -> None:
        with write_tx(self.engine) as conn:
            if conn.scalar(select(access_log.c.access_id).where(access_log.c.access_id == access_id)) is None:
                conn.execute(insert(access_log).values(
                    access_id=access_id, case_id=row.case_id, agency=actor.agency, user_id=actor.user_id,
                    role=actor.role, at_ms=ms(now), purpose=purpose, relationship=relationship, part=part))


class _Lost(Exception):
    """The optimistic lock was lost inside the transaction."""


