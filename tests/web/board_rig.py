"""A board web app over real SQLite (board + keys databases) for the web tests: board-core's facade with the
in-memory activity publisher (no broker needed for page tests), accounts for every agency x role in the
`board_users` table (the facade's directory reads them), and helpers to sign in and read CSRF tokens."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from eahub.board.activity import InMemoryActivityPublisher
from eahub.board.crypto import KeyRing
from eahub.board.metrics import board_metrics
from eahub.board.model import ROLES
from eahub.board.service import Board
from eahub.board.sla import load_sla
from eahub.board.tables import init_board_db, init_keys_db
from eahub.board.web.accounts import AccountsDirectory, board_shell
from eahub.board.web.app import agency_names, create_board_app
from eahub.board.web.settings import BoardWebSettings
from eahub.core.database import make_engine
from eahub.core.paths import POLICIES_DIR
from eahub.core.settings import HubSettings
from eahub.core.web.accounts import Account, cheap_hasher
from eahub.core.web.compose import create_tables
from tests.board_support import ADULTS, CHILDREN, POLICE, Clock, routed_case

PASSWORD = "board password 1"
AGENCIES = (ADULTS, CHILDREN, POLICE)
HTML = {"accept": "text/html"}
__all__ = ["AGENCIES", "HTML", "PASSWORD", "WebRig", "make_web_rig", "routed_case"]


@dataclass
class WebRig:
    app: FastAPI
    board: Board
    audit: InMemoryActivityPublisher
    clock: Clock
    users: dict[tuple[str, str], Account] = field(default_factory=dict)  # (agency, role) -> account

    def client(self, agency: str | None = None, role: str = "member") -> TestClient:
        c = TestClient(self.app)
        if agency is not None:
            sign_in(c, self.users[(agency, role)].login)
        return c


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf token in page"
    return m.group(1)


def sign_in(c: TestClient, login: str, password: str = PASSWORD) -> None:
    token = csrf_of(c.get("/signin", headers=HTML).text)
    r = c.post("/signin", data={"login": login, "password": password, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303, r.text


def make_web_rig(tmp_path: Path) -> WebRig:
    engine = make_engine(f"sqlite:///{tmp_path / 'board.db'}")
    keys = make_engine(f"sqlite:///{tmp_path / 'board-keys.db'}")
    init_board_db(engine)
    init_keys_db(keys)
    hub = HubSettings(data_dir=tmp_path / "data")
    shell = board_shell(BoardWebSettings(base_url="http://testserver"), engine, hub, hasher=cheap_hasher())
    create_tables(shell)
    clock = Clock()
    audit = InMemoryActivityPublisher()
    board = Board(engine, KeyRing(keys, os.urandom(32)), audit, AccountsDirectory(shell.accounts), load_sla(),
                  base_url="http://testserver", clock=clock, agency_names=agency_names(POLICIES_DIR))
    registry = CollectorRegistry()
    board_metrics(registry, board)
    app = create_board_app(shell, board, POLICIES_DIR, registry)
    rig = WebRig(app, board, audit, clock)
    for agency in AGENCIES:
        for role in ROLES:
            short = agency.split("-")[-1]
            rig.users[(agency, role)] = shell.accounts.add(f"{short}.{role}", agency, role, PASSWORD,
                                                           email=f"{role}@{short}.example")
    return rig
