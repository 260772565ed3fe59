"""What the console's routes work on, put together by the composition root (`serve.py`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from eahub.audit.bootstrap import AuditParts
from eahub.audit.console.erase import Publish
from eahub.audit.console.integrity import Integrity
from eahub.audit.console.settings import ConsoleSettings
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import require_account


@dataclass
class Console:
    parts: AuditParts
    pseudonymiser: Pseudonymiser
    integrity: Integrity
    settings: ConsoleSettings
    policies_dir: Path
    publish: Publish | None = None  # erasure requests to the boards (None: no broker configured)


def roles(*allowed: str) -> Callable[[Request], Account]:
    """A FastAPI dependency: the signed-in IG account, if its role is one of `allowed` (else 403)."""
    def check(request: Request) -> Account:
        account = require_account(request)
        if account.role not in allowed:
            raise Problem(403, "not-permitted", "Your role may not do this.")
        return account
    return check
