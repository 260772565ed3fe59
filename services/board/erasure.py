"""Erasure and retention on the board: a subject's personal content is crypto-shredded (their key destroyed
in the keys database) and its sealed rows deleted from the board database, which keeps only the non-personal
skeleton (category, grade, district, times, states) for statistics. Each erased case is an ERASURE record on
the audit trail (through the activity outbox). Freed pages are zeroed and the WAL truncated (SQLite), or the
tables vacuumed (PostgreSQL). Backups of the board database never hold keys: after an erasure, the subject's
ciphertext in every earlier backup cannot be opened any more."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, select, update

from eahub.board import activity
from eahub.board.crypto import subject_of
from eahub.board.db import ms
from eahub.board.model import CLOSED
from eahub.board.outbox import queue_activity
from eahub.board.tables import actions, cases, notes, visits
from eahub.core.database import is_postgres
from eahub.core.logging import get_logger

if TYPE_CHECKING:
    from eahub.board.service import Board

log = get_logger("eahub.board.erasure")
_SEALED_TABLES = ("board_cases", "board_notes", "board_actions", "board_visits")


def _shred_rows(conn: Connection, case_ids: list[str], now_ms: int) -> None:
    conn.execute(update(cases).where(cases.c.case_id.in_(case_ids))
                 .values(sealed_concern=None, key_id=None, source_reference=None, erased_at_ms=now_ms))
    conn.execute(update(notes).where(notes.c.case_id.in_(case_ids)).values(sealed_text=None, key_id=None))
    conn.execute(update(actions).where(actions.c.case_id.in_(case_ids)).values(sealed_text=None, key_id=None))
    conn.execute(update(visits).where(visits.c.case_id.in_(case_ids)).values(sealed_notes=None, key_id=None))


def purge(engine: Engine) -> None:
    """Push freed bytes out of the database files."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if is_postgres(engine):
            for name in _SEALED_TABLES:
                conn.exec_driver_sql(f"VACUUM {name}")
        else:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def _erase(board: Board, rows: list[Any], reason: str, actor: str, request_id: str, now: datetime,
           destroy_subjects: set[str]) -> int:
    if not rows:
        return 0
    now_ms = ms(now)
    ids = [r.case_id for r in rows]
    records = [activity.record(
        activity.ERASURE, occurred_at=now, actor=actor, agency=r.agency, id_parts=(r.case_id, request_id),
        case=dict(r._mapping), part="personal-content", outcome="erased", action="erase",
        from_state=r.state, to_state=r.state, details={"reason": reason, "request_id": request_id})
        for r in rows]
    with board.engine.begin() as conn:
        if not is_postgres(board.engine):
            conn.exec_driver_sql("PRAGMA secure_delete=ON")
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        for i in range(0, len(ids), 500):
            _shred_rows(conn, ids[i:i + 500], now_ms)
        queue_activity(conn, records, now_ms)
    for subject in destroy_subjects:
        board.keyring.erase(subject)
    purge(board.engine)
    board.keyring.purge()
    return len(rows)


def erase_subject(board: Board, subject_ref: str, request_id: str, actor: str) -> int:
    """Erase everything the board holds about the subject, on every agency's board. Returns cases erased."""
    with board.engine.connect() as conn:
        rows = conn.execute(select(cases).where(cases.c.subject_ref == subject_ref)).all()
    n = _erase(board, list(rows), "subject-erasure", actor, request_id, board.clock(), {subject_ref})
    if not rows:
        board.keyring.erase(subject_ref)  # a key may exist from a case stored and erased before
    log.info("subject erased on the board", request_id=request_id, cases=n)
    return n


def apply_retention(board: Board, now: datetime) -> int:
    """Erase closed cases past the retention period. A subject's key is destroyed once none of their cases
    still holds content. Returns cases erased."""
    cutoff = ms(now - timedelta(days=board.retention_days))
    with board.engine.connect() as conn:
        rows = list(conn.execute(select(cases).where(cases.c.state == CLOSED, cases.c.closed_at_ms < cutoff,
                                                     cases.c.erased_at_ms.is_(None))).all())
        due = {r.case_id for r in rows}
        subjects = {subject_of(r.subject_ref, r.case_id) for r in rows}
        still_held = {subject_of(r.subject_ref, r.case_id) for r in conn.execute(
            select(cases.c.case_id, cases.c.subject_ref).where(cases.c.erased_at_ms.is_(None)))
            if r.case_id not in due}
    n = _erase(board, rows, "retention", "board:retention", f"retention-{cutoff}", now, subjects - still_held)
    if n:
        log.info("board retention applied", cases=n)
    return n
