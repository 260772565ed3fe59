"""IG accounts: the shell's accounts store over `ig_users` in the audit database (sessions `ig_sessions`,
sign-in attempts `ig_signin_attempts`, cookie `eahub-ig`): separate tables and cookie from the boards', so a
board member's session or account means nothing here. Roles and what each may do."""

from __future__ import annotations

import secrets
import time
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine

from eahub.core.web.accounts import Accounts
from eahub.core.web.compose import make_shell
from eahub.core.web.sessions import Clock
from eahub.core.web.settings import WebSettings
from eahub.core.web.shell import NavItem, Shell

PREFIX = "ig"
IG_OFFICER, CALDICOTT, DPO, AUDITOR = "ig-officer", "caldicott-guardian", "dpo", "auditor"
ROLES = (IG_OFFICER, CALDICOTT, DPO, AUDITOR)
IG_AGENCY = "information-governance"
# what each act needs (every role may view, verify and download proofs and flow tables)
MAY_DISCLOSE_SAR = (IG_OFFICER, CALDICOTT, DPO)
MAY_REVIEW = (IG_OFFICER, CALDICOTT, DPO)
MAY_ERASE = (IG_OFFICER, DPO)
TEMPLATES = Path(__file__).parent / "templates"
NAV = (NavItem("/", "Find a subject"), NavItem("/flows", "Flows"), NavItem("/reviews", "Reviews"),
       NavItem("/integrity", "Integrity"), NavItem("/records", "Records of processing"),
       NavItem("/erasure", "Erasure", roles=MAY_ERASE))


def console_accounts(engine: Engine, hasher: PasswordHasher | None = None) -> Accounts:
    return Accounts(engine, f"{PREFIX}_users", ROLES, (IG_AGENCY,), hasher)


def console_shell(settings: WebSettings, engine: Engine, hasher: PasswordHasher | None = None,
                  clock: Clock = time.time) -> Shell:
    return make_shell(settings, engine, PREFIX, ROLES, "Early Action IG console", (IG_AGENCY,), hasher, clock,
                      template_dirs=(TEMPLATES,), nav=NAV)


def demo_ig_account(accounts: Accounts, login: str = "demo.ig-officer") -> tuple[str, str]:
    """For `eahub demo`: the demo IG officer with a fresh random password (printed by the caller)."""
    password = secrets.token_urlsafe(9)
    if accounts.by_login(login) is None:
        accounts.add(login, IG_AGENCY, IG_OFFICER, password)
    else:
        accounts.set_password(login, password)
    return login, password
