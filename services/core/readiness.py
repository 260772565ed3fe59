"""Readiness, beside liveness: can this service do its job right now? Each check answers None (fine) or a
reason without any data (the broker is unreachable, the producer is broken, the database is read-only...).
`GET /readyz` answers 200 when every check passes, 503 naming the failing ones; `/healthz` stays the
liveness answer (the process serves HTTP), so an orchestrator restarts only what is dead, and routes traffic
only to what is ready."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

Check = Callable[[], str | None]


class HealthReporting(Protocol):
    @property
    def healthy(self) -> bool: ...

    def broker_reachable(self, timeout_s: float = 2.0) -> bool: ...


@dataclass
class Readiness:
    checks: dict[str, Check] = field(default_factory=dict)

    def report(self) -> dict[str, str]:
        """check name -> "ok" or the reason it fails."""
        out: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                reason = check()
            except Exception as exc:  # a check that cannot run is a failing check, never a 500
                reason = f"check failed: {type(exc).__name__}"
            out[name] = reason or "ok"
        return out


def publisher_checks(publisher: object) -> dict[str, Check]:
    """Broker reachable and producer healthy, for a publisher that reports them (the Kafka one does)."""
    if not (hasattr(publisher, "healthy") and hasattr(publisher, "broker_reachable")):
        return {}
    reporting: HealthReporting = publisher
    return {
        "broker": lambda: None if reporting.broker_reachable(1.0) else "the broker is unreachable",
        "producer": lambda: None if reporting.healthy else "the latest publish failed or the producer is broken",
    }


def database_check(engine: Engine) -> Check:
    """The database answers and accepts writes (PostgreSQL: not a read-only session or standby; SQLite: the
    file and its directory are writable)."""

    def check() -> str | None:
        try:
            with engine.connect() as conn:
                if engine.dialect.name == "postgresql":
                    if conn.execute(text("SHOW transaction_read_only")).scalar() == "on":
                        return "the database is read-only"
                else:
                    conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            return f"the database is unreachable ({type(exc).__name__})"
        database = engine.url.database
        if engine.dialect.name == "sqlite" and database and database != ":memory:":
            path = Path(database)
            if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
                return "the database file is not writable"
        return None

    return check
