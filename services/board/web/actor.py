"""The facade's `Actor` for the signed-in account of a request."""

from __future__ import annotations

from fastapi import Request

from eahub.board.model import Actor
from eahub.core.web.shell import require_account, require_session


def actor_of(request: Request) -> Actor:
    """A FastAPI dependency: the signed-in board user as an Actor (401 when signed out)."""
    account = require_account(request)
    session = require_session(request)
    return Actor(account.user_id, account.login, account.agency, account.role, session.ref)
