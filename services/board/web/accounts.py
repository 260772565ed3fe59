"""The board's accounts: the shell's accounts store over `board_users` in the board database, with the board's
roles and the agencies of the policy registry; and the `Directory` port board-core's facade reads people from."""

from __future__ import annotations

import secrets
import time
from collections.abc import Collection
from pathlib import Path

from argon2 import PasswordHasher
from sqlalchemy import Engine

from eahub.board.model import ROLES, Person
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.core.web.accounts import Account, Accounts
from eahub.core.web.compose import make_shell
from eahub.core.web.sessions import Clock
from eahub.core.web.settings import WebSettings
from eahub.core.web.shell import NavItem, Shell

PREFIX = "board"
TEMPLATES = Path(__file__).parent / "templates"
NAV = (NavItem("/", "Queue"), NavItem("/feedback", "Feedback"), NavItem("/notifications", "Notifications"),
       NavItem("/workload", "Team workload", roles=("manager",)))


def board_accounts(engine: Engine, hub: HubSettings, hasher: PasswordHasher | None = None) -> Accounts:
    return Accounts(engine, f"{PREFIX}_users", ROLES, agency_ids(hub.policies_dir), hasher)


def board_shell(settings: WebSettings, engine: Engine, hub: HubSettings, hasher: PasswordHasher | None = None,
                clock: Clock = time.time) -> Shell:
    return make_shell(settings, engine, PREFIX, ROLES, "Early Action board", agency_ids(hub.policies_dir), hasher,
                      clock, template_dirs=(TEMPLATES,), nav=NAV)


def person(account: Account) -> Person:
    return Person(account.user_id, account.login, account.agency, account.role, account.email, account.active)


class AccountsDirectory:
    """board-core's `Directory` port over the accounts table."""

    def __init__(self, accounts: Accounts) -> None:
        self.accounts = accounts

    def get(self, user_id: str) -> Person | None:
        account = self.accounts.get(user_id)
        return None if account is None else person(account)

    def of_agency(self, agency: str, roles: Collection[str]) -> list[Person]:
        return [person(a) for a in self.accounts.of_agency(agency, roles)]


def demo_accounts(accounts: Accounts, agencies: Collection[str]) -> list[tuple[str, str, str]]:
    """For `eahub demo`: one member and one manager per agency, each with a fresh random password (printed by the
    caller); returns (agency, login, password). Existing demo accounts get a new password."""
    out = []
    for agency in agencies:
        for role in ("member", "manager"):
            login = f"demo.{agency}.{role}"
            password = secrets.token_urlsafe(9)
            if accounts.by_login(login) is None:
                accounts.add(login, agency, role, password)
            else:
                accounts.set_password(login, password)
            out.append((agency, login, password))
    return out
