"""Outbox rows written in the same transaction as the change that causes them: notifications (sent by
the mailer, shown on the board) and BoardActivity records of the SLA sweep (sent by the relay)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from eahub.board import activity
from eahub.board.activity import ActivityPublisher
from eahub.board.model import AuditUnavailable, Person, case_ref
from eahub.board.tables import activity_outbox, notifications
from eahub.core import ids
from eahub.core.logging import get_logger

log = get_logger("eahub.board.outbox")


def notification_id(*parts: str) -> str:
    return ids.derive("board-notification", *parts)


def case_message(base_url: str, case_id: str, headline: str) -> tuple[str, str]:
    """Subject and body of a notification: only the case reference and a link, never personal data."""
    ref = case_ref(case_id)
    subject = f"Early Action {ref}: {headline}"
    body = f"Case {ref}: {headline}.\n\nOpen it on the board: {base_url.rstrip('/')}/cases/{case_id}\n"
    return subject, body


def queue_notification(conn: Connection, *, message_id: str, person: Person, case_id: str | None, subject: str,
                       body: str, now_ms: int) -> bool:
    """Insert one notification unless that message id exists already. Returns whether it was new."""
    if conn.scalar(select(notifications.c.message_id).where(notifications.c.message_id == message_id)):
        return False
    conn.execute(insert(notifications).values(
        message_id=message_id, agency=person.agency, user_id=person.user_id, email=person.email, case_id=case_id,
        subject=subject, body=body, created_at_ms=now_ms, attempts=0,
        next_attempt_at_ms=now_ms if person.email else None))
    return True


def queue_notifications(conn: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert many notification rows (dicts of the table's columns), skipping message ids that exist."""
    if not rows:
        return 0
    present: set[str] = set()
    ids_ = [r["message_id"] for r in rows]
    for i in range(0, len(ids_), 500):
        present.update(conn.scalars(select(notifications.c.message_id)
                                    .where(notifications.c.message_id.in_(ids_[i:i + 500]))))
    new = [r for r in rows if r["message_id"] not in present]
    if new:
        conn.execute(insert(notifications), new)
    return len(new)


def notification_row(*, message_id: str, person: Person, case_id: str | None, subject: str, body: str,
                     now_ms: int) -> dict[str, Any]:
    return {"message_id": message_id, "agency": person.agency, "user_id": person.user_id, "email": person.email,
            "case_id": case_id, "subject": subject, "body": body, "created_at_ms": now_ms, "attempts": 0,
            "next_attempt_at_ms": now_ms if person.email else None, "sent_at_ms": None, "last_error": None}


def queue_activity(conn: Connection, records: list[dict[str, Any]], now_ms: int) -> None:
    if not records:
        return
    present: set[str] = set()
    ids_ = [r["activity_id"] for r in records]
    for i in range(0, len(ids_), 500):
        present.update(conn.scalars(select(activity_outbox.c.activity_id)
                                    .where(activity_outbox.c.activity_id.in_(ids_[i:i + 500]))))
    rows = [{"activity_id": r["activity_id"], "record": activity.to_json(r), "created_at_ms": now_ms}
            for r in records if r["activity_id"] not in present]
    if rows:
        conn.execute(insert(activity_outbox), rows)


def relay_once(engine: Engine, publisher: ActivityPublisher, now_ms: int, batch: int = 500) -> int:
    """Publish pending outbox records (at least once: ids are deterministic, the ledger dedupes)."""
    with engine.connect() as conn:
        rows = conn.execute(select(activity_outbox.c.activity_id, activity_outbox.c.record)
                            .where(activity_outbox.c.published_at_ms.is_(None))
                            .order_by(activity_outbox.c.created_at_ms).limit(batch)).all()
    if not rows:
        return 0
    publisher.publish([activity.from_json(r.record) for r in rows])
    with engine.begin() as conn:
        conn.execute(update(activity_outbox).where(activity_outbox.c.activity_id.in_([r.activity_id for r in rows]))
                     .values(published_at_ms=now_ms))
    return len(rows)


def relay_runner(engine: Engine, publisher: ActivityPublisher, clock_ms: Callable[[], int],
                 interval_s: float) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        delay = interval_s
        while not stop.is_set():
            try:
                n = relay_once(engine, publisher, clock_ms())
                delay = interval_s
                if n:
                    continue
            except AuditUnavailable:
                log.warning("activity relay: audit trail unavailable; retrying", retry_in_s=delay)
                delay = min(delay * 2, 30.0)
            except Exception as exc:  # a database hiccup must not end the relay
                log.warning("activity relay: error; retrying", error=type(exc).__name__, retry_in_s=delay)
                delay = min(delay * 2, 30.0)
            stop.wait(delay)

    return run


