"""A tiny app on the web shell for the shell's own tests: one page and one state-changing route."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import Engine

from eahub.core.database import make_engine
from eahub.core.web.accounts import Account, cheap_hasher
from eahub.core.web.app_factory import create_web_app
from eahub.core.web.compose import create_tables, make_shell
from eahub.core.web.settings import WebSettings
from eahub.core.web.shell import Shell, require_account

PASSWORD = "correct horse battery"


@dataclass
class FakeClock:
    """A controllable clock (epoch seconds)."""
    now: float = 1_800_000_000.0
    calls: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now


@dataclass
class ShellApp:
    app: FastAPI
    shell: Shell
    engine: Engine
    clock: FakeClock
    changes: list[str]


def build(tmp_path: Path, base_url: str = "http://testserver", **settings: object) -> ShellApp:
    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    clock = FakeClock()
    ws = WebSettings(base_url=base_url, **settings)
    shell = make_shell(ws, engine, "t", ("member", "manager"), "Test app", agencies=("a1", "a2"),
                       hasher=cheap_hasher(), clock=clock)
    create_tables(shell)
    app = create_web_app(shell, "test")
    changes: list[str] = []

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request, account: Annotated[Account, Depends(require_account)]) -> HTMLResponse:
        return shell.page(request, "error.html", problem=type("P", (), {"title": "Home", "detail": account.login,
                                                                         "status": 200})())

    @app.post("/change")
    def change(account: Annotated[Account, Depends(require_account)]) -> JSONResponse:
        changes.append(account.login)
        return JSONResponse({"ok": True})

    @app.get("/boom")
    def boom() -> JSONResponse:
        raise RuntimeError("secret detail Alex Example 9434765919")

    shell.accounts.add("alice", "a1", "member", PASSWORD)
    return ShellApp(app, shell, engine, clock, changes)
