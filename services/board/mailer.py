"""Sending the notification outbox by SMTP (aiosmtplib). At least once: a row is marked sent only after the
server accepted it; the Message-ID header is the row's deterministic message id, so a resend is recognisable.
Failures are retried with exponential backoff and jitter. With no SMTP host configured, notifications stay
on the board (`Board.notifications`) and are logged by message id only, never by content."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib
from sqlalchemy import Engine, select, update

from eahub.board.db import write_tx
from eahub.board.settings import SmtpSettings
from eahub.board.tables import notifications
from eahub.core.logging import get_logger

log = get_logger("eahub.board.mailer")
LEASE_MS = 60_000


@dataclass
class MailResult:
    sent: int = 0
    failed: int = 0
    kept: int = 0  # no SMTP host: left on the board


def backoff_ms(attempts: int, base_ms: int = 2_000, cap_ms: int = 15 * 60_000) -> int:
    """Delay before the next attempt after `attempts` failures: doubling, capped, with full jitter on half."""
    delay = min(cap_ms, base_ms * 2 ** max(0, attempts - 1))
    return delay // 2 + random.randint(0, delay // 2)


def _email(smtp: SmtpSettings, message_id: str, to: str, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.from_address
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{message_id}@eahub.board>"
    msg.set_content(body)
    return msg


def _claim(engine: Engine, smtp: SmtpSettings, now_ms: int, batch: int) -> list[tuple[str, str, str, str, int]]:
    """Take a lease on due rows so that a second mailer does not send them at the same moment."""
    with write_tx(engine) as conn:
        rows = conn.execute(select(notifications.c.message_id, notifications.c.email, notifications.c.subject,
                                   notifications.c.body, notifications.c.attempts, notifications.c.next_attempt_at_ms)
                            .where(notifications.c.sent_at_ms.is_(None), notifications.c.email.is_not(None),
                                   notifications.c.next_attempt_at_ms <= now_ms,
                                   notifications.c.attempts < smtp.max_attempts)
                            .order_by(notifications.c.next_attempt_at_ms).limit(batch)).all()
        taken = []
        for r in rows:
            res = conn.execute(update(notifications).where(notifications.c.message_id == r.message_id,
                                                          notifications.c.next_attempt_at_ms == r.next_attempt_at_ms)
                               .values(next_attempt_at_ms=now_ms + LEASE_MS))
            if res.rowcount == 1:
                taken.append((r.message_id, r.email, r.subject, r.body, r.attempts))
    return taken


async def send_due(engine: Engine, smtp: SmtpSettings, now_ms: int, batch: int = 50) -> MailResult:
    result = MailResult()
    if not smtp.host:
        with write_tx(engine) as conn:
            ids = conn.scalars(select(notifications.c.message_id).where(
                notifications.c.sent_at_ms.is_(None), notifications.c.next_attempt_at_ms <= now_ms)).all()
            if ids:
                conn.execute(update(notifications).where(notifications.c.message_id.in_(ids))
                             .values(next_attempt_at_ms=None))
        for mid in ids:
            log.info("notification kept on the board (no SMTP host set)", message_id=mid)
        result.kept = len(ids)
        return result
    for message_id, email, subject, body, attempts in _claim(engine, smtp, now_ms, batch):
        try:
            await aiosmtplib.send(
                _email(smtp, message_id, email, subject, body), hostname=smtp.host, port=smtp.port,
                username=smtp.username, password=smtp.password.get_secret_value() if smtp.password else None,
                start_tls=smtp.starttls, timeout=30)
        except (aiosmtplib.SMTPException, OSError) as exc:
            delay = backoff_ms(attempts + 1)
            with engine.begin() as conn:
                conn.execute(update(notifications).where(notifications.c.message_id == message_id).values(
                    attempts=attempts + 1, next_attempt_at_ms=now_ms + delay, last_error=type(exc).__name__))
            log.warning("notification not accepted by the mail server; will retry", message_id=message_id,
                        error=type(exc).__name__, attempt=attempts + 1, retry_in_s=delay / 1000)
            result.failed += 1
            continue
        with engine.begin() as conn:
            conn.execute(update(notifications).where(notifications.c.message_id == message_id).values(
                attempts=attempts + 1, sent_at_ms=now_ms, next_attempt_at_ms=None, last_error=None))
        result.sent += 1
    return result


def mailer_runner(engine: Engine, smtp: SmtpSettings, clock_ms: Callable[[], int],
                  interval_s: float) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                asyncio.run(send_due(engine, smtp, clock_ms()))
            except Exception as exc:  # a database hiccup must not end the mailer
                log.warning("mailer: error; retrying", error=type(exc).__name__)
            stop.wait(interval_s)

    return run
