"""Notifications by email through a real local SMTP server (aiosmtpd): a breach escalation arrives with the
case reference and link and no personal data, Message-ID = the outbox message id; a refused delivery is
retried with backoff and then delivered once; with no SMTP host the notification stays on the board."""

from __future__ import annotations

import asyncio
import email
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from eahub.board.mailer import send_due
from eahub.board.model import case_ref
from eahub.board.settings import SmtpSettings
from eahub.board.tables import notifications
from eahub.core.broker import free_port
from tests.board_support import T0, make_rig, routed_case

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self, refuse_first: int = 0) -> None:
        self.messages: list[Message] = []
        self.refuse = refuse_first

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Any:
    inbox = Inbox(refuse_first=1)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield inbox, controller.port
    finally:
        controller.stop()


def test_breach_escalation_email_is_sent_retried_and_carries_no_personal_data(smtp_server: Any,
                                                                           tmp_path: Path) -> None:
    inbox, port = smtp_server
    rig = make_rig(tmp_path)
    rc = routed_case()
    rig.board.store_case(rc)
    t0 = int(T0.timestamp() * 1000)
    rig.board.sweep(rig.clock.advance(minutes=60))  # straight to breach: the manager is told
    smtp = SmtpSettings(host="127.0.0.1", port=port)
    now = t0 + 60 * 60_000
    first = asyncio.run(send_due(rig.board.engine, smtp, now))
    assert (first.sent, first.failed) == (0, 1)  # the server refused once
    with rig.board.engine.connect() as conn:
        row = conn.execute(select(notifications)).one()
    assert row.attempts == 1 and row.sent_at_ms is None and row.next_attempt_at_ms > now
    assert asyncio.run(send_due(rig.board.engine, smtp, now)).sent == 0  # not due yet: backoff
    second = asyncio.run(send_due(rig.board.engine, smtp, row.next_attempt_at_ms))
    assert second.sent == 1
    assert asyncio.run(send_due(rig.board.engine, smtp, row.next_attempt_at_ms + 10**7)).sent == 0  # sent once
    [msg] = inbox.messages
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert msg["To"] == "mgr@adults.example"
    assert msg["Message-ID"] == f"<{row.message_id}@eahub.board>"
    assert case_ref(rc["case_id"]) in msg["Subject"] and "overdue" in msg["Subject"]
    assert f"https://board.example/cases/{rc['case_id']}" in body
    raw = msg.as_string()
    for personal in ("Alex", "Example Street", "9434765919", "crisis", "Preston", "MENTAL_HEALTH"):
        assert personal not in raw
    [shown] = rig.board.notifications(rig.actor("adults-mgr"))
    assert shown.sent_at is not None


def test_without_smtp_host_notifications_stay_on_the_board(tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    rig.board.store_case(routed_case())
    rig.board.sweep(rig.clock.advance(minutes=46))
    result = asyncio.run(send_due(rig.board.engine, SmtpSettings(), int(rig.clock.now.timestamp() * 1000)))
    assert result.kept == 3 and result.sent == 0
    assert len(rig.board.notifications(rig.actor("adults-m1"))) == 1
