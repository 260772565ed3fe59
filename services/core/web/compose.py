"""Build a `Shell` for one app from its settings and database: `<prefix>_users`, `<prefix>_sessions` and
`<prefix>_signin_attempts` tables (the board: prefix `board` in the board DB; the IG console: `ig` in the audit DB)."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine

from eahub.core.web.accounts import Accounts
from eahub.core.web.ratelimit import SignInLimiter
from eahub.core.web.sessions import Clock, SessionStore
from eahub.core.web.settings import WebSettings
from eahub.core.web.shell import NavItem, Shell
from eahub.core.web.templating import make_environment


def make_shell(settings: WebSettings, engine: Engine, prefix: str, roles: Collection[str], app_name: str,
               agencies: Collection[str] | None = None, hasher: PasswordHasher | None = None,
               clock: Clock = time.time, template_dirs: Sequence[Path] = (), nav: Sequence[NavItem] = (),
               home_path: str = "/") -> Shell:
    accounts = Accounts(engine, f"{prefix}_users", roles, agencies, hasher)
    sessions = SessionStore(engine, f"{prefix}_sessions", settings.session_idle_minutes * 60,
                            settings.session_absolute_hours * 3600, clock)
    limiter = SignInLimiter(engine, f"{prefix}_signin_attempts", settings.signin_max_attempts,
                            settings.signin_window_seconds, clock)
    return Shell(settings, accounts, sessions, limiter, make_environment(template_dirs), app_name,
                 f"eahub-{prefix}", home_path, list(nav))


def create_tables(shell: Shell) -> None:
    """DDL for the shell's tables (for `init` commands and bootstraps)."""
    shell.accounts.create_tables()
    shell.sessions.create_tables()
    shell.limiter.create_tables()
