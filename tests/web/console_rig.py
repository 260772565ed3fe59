"""An IG console web app over the seeded audit database (tests/console_support), one account per IG role, and
helpers to sign in; the erasure publisher collects messages (the broker test sends them for real)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fastapi.testclient import TestClient

from eahub.audit.console.bootstrap import ConsoleApp, build_console
from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.web.accounts import IG_AGENCY, ROLES
from eahub.core.messages import OutboundMessage
from eahub.core.web.accounts import Account, cheap_hasher
from tests.console_support import Seeded, seed
from tests.web.board_rig import HTML, csrf_of, sign_in

PASSWORD = "console password 1"
__all__ = ["HTML", "PASSWORD", "ConsoleRig", "csrf_of", "make_console_rig"]


@dataclass
class ConsoleRig:
    web: ConsoleApp
    seeded: Seeded
    sent: list[OutboundMessage] = field(default_factory=list)
    users: dict[str, Account] = field(default_factory=dict)  # role -> account

    def client(self, role: str | None = None) -> TestClient:
        c = TestClient(self.web.app)
        if role is not None:
            sign_in(c, self.users[role].login, PASSWORD)
        return c

    def csrf(self, c: TestClient) -> str:
        return csrf_of(c.get("/", headers=HTML).text)


def make_console_rig(tmp_path: Path, database_url: str | None = None,
                     settings: ConsoleSettings | None = None) -> ConsoleRig:
    seeded = seed(tmp_path, database_url)
    sent: list[OutboundMessage] = []
    web = build_console(seeded.settings, settings or ConsoleSettings(base_url="http://testserver"),
                        hasher=cheap_hasher(), publish=sent.extend, parts=seeded.parts)
    rig = ConsoleRig(web, seeded, sent)
    for role in ROLES:
        rig.users[role] = web.shell.accounts.add(f"ig.{role}", IG_AGENCY, role, PASSWORD)
    return rig
