"""`init_console`: the owner's one-time DDL of the IG console (its tables and the shell's `ig_*` tables in the
audit database), for `eahub init` / `eahub audit init` and `eahub audit console init`. Apart from the console's
composition root so that creating tables does not import the web app (`eahub up` and `eahub demo` run it first)."""

from __future__ import annotations

from eahub.audit.console.settings import ConsoleSettings
from eahub.audit.console.tables import create_console_tables
from eahub.audit.console.web.accounts import console_shell
from eahub.core.database import make_engine
from eahub.core.settings import HubSettings
from eahub.core.web.compose import create_tables


def init_console(settings: HubSettings) -> None:
    """Create the console's tables and the IG accounts/sessions tables in the audit database (idempotent)."""
    engine = make_engine(settings.ledger_url)
    try:
        create_console_tables(engine)
        create_tables(console_shell(ConsoleSettings(), engine))
    finally:
        engine.dispose()
