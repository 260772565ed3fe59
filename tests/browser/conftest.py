"""Browser test fixtures: Playwright (pinned) driving Debian's chromium through `executable_path` (never a
downloaded browser), a real hub (`start_hub`: embedded broker, ingest, router, audit) plus the board
(`start_board`: web app, consumer, sweeper, mailer, relay) on free ports, and a real local SMTP server (aiosmtpd).
Without /usr/bin/chromium the tests skip with the reason, except under CI=true, where they fail."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from eahub.core.broker import free_port
from eahub.core.settings import HubSettings

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
               "--disable-sync", "--no-first-run"]
PASSWORD = "browser test pw"


def _require_chromium() -> None:
    if not CHROMIUM.exists():
        reason = f"Debian chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: browser tests must run)")
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Per module: Playwright's sync API runs an event loop in this thread while it is open, and later tests
    in the session (asyncio.run) need it gone."""
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # the aiosmtpd hook name
        with self.lock:
            msg = message_from_bytes(envelope.content)
            msg["X-Envelope-To"] = ",".join(envelope.rcpt_tos)
            self.messages.append(msg)
        return "250 OK"

    def wait_for(self, predicate: Any, timeout_s: float = 60) -> Message:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                for m in self.messages:
                    if predicate(m):
                        return m
            time.sleep(0.2)
        raise AssertionError(f"no matching email within {timeout_s} s ({len(self.messages)} received)")


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    from aiosmtpd.controller import Controller

    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Stack:
    settings: HubSettings
    board_url: str
    ingest_url: str
    running: Any
    hub: Any
    mailbox: Mailbox
    logins: dict[str, str]


@pytest.fixture
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: tuple[Mailbox, int]) -> Iterator[Stack]:
    from eahub.board.settings import BoardSettings, SmtpSettings
    from eahub.board.web.serve import start_board
    from eahub.board.web.settings import BoardWebSettings
    from eahub.core.web.accounts import cheap_hasher
    from eahub.hub.hub import start_hub

    for name in [n for n in os.environ if n.startswith("EAHUB_") and not n.startswith("EAHUB_TEST_")]:
        monkeypatch.delenv(name)
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port())
    monkeypatch.setenv("EAHUB_DATA_DIR", str(settings.data_dir))  # for the `eahub audit` commands
    monkeypatch.setenv("EAHUB_BROKER_PORT", str(settings.broker_port))
    hub = start_hub(settings)
    box, smtp_port = smtp
    web = BoardWebSettings(http_port=free_port(), queue_refresh_seconds=1)
    board_settings = BoardSettings(time_scale=600, sweep_interval_seconds=0.3, mail_interval_seconds=0.3,
                                   relay_interval_seconds=0.3)
    running = start_board(settings, web, board_settings,
                          SmtpSettings(host="127.0.0.1", port=smtp_port, from_address="board@hub.example"),
                          hasher=cheap_hasher())
    accounts = running.web.shell.accounts
    logins = {}
    for key, agency, role in (("adults", "lancashire-cc-adults", "member"),
                              ("adults-mgr", "lancashire-cc-adults", "manager"),
                              ("police", "lancashire-police", "member"),
                              ("children", "lancashire-cc-childrens", "member")):
        login = f"{key}.user"
        accounts.add(login, agency, role, PASSWORD, email=f"{key}@board.example")
        logins[key] = login
    deadline = time.monotonic() + 10
    while not hub.http.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Stack(settings, running.url, f"http://{settings.http_host}:{settings.http_port}", running, hub, box,
                    logins)
    finally:
        running.shutdown()
        hub.shutdown()
