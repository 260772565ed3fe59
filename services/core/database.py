"""SQLAlchemy Core engines for the hub's durable stores: a SQLite file by default, PostgreSQL in
production and CI. One code path; dialect differences stay in this file and in each store's DDL."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError

from eahub.core.retry import StopRequested, retry
from eahub.core.secrets import ensure_private_file

T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///").split("?")[0]
        if database and database != ":memory:":
            ensure_private_file(Path(database))  # 0600, and so its -wal and -shm files too
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class TransientConflict(RuntimeError):
    """A store lost a race with a concurrent writer (e.g. for the same ledger positions); trying again may work."""


class DatabaseUnavailable(RuntimeError):
    """Transient database errors went on for every attempt: the service must stop, loudly."""


def is_transient(exc: BaseException) -> bool:
    """Database errors that may pass: a locked SQLite file, a dropped PostgreSQL connection, a lost race."""
    if isinstance(exc, OperationalError | TransientConflict):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def with_database_retry(action: Callable[[], T], *, stop: threading.Event, attempts: int,
                        first_delay_s: float = 0.2, max_delay_s: float = 5.0,
                        on_retry: Callable[[int, BaseException, float], None] | None = None) -> T:
    """`action`, retried on transient database errors (`eahub.core.retry`); DatabaseUnavailable when they last."""
    try:
        return retry(action, transient=is_transient, stop=stop, attempts=attempts, first_delay_s=first_delay_s,
                     max_delay_s=max_delay_s, on_retry=on_retry)
    except StopRequested:
        raise
    except Exception as exc:
        if not is_transient(exc):
            raise
        raise DatabaseUnavailable(f"database unavailable after {attempts} attempts ({type(exc).__name__})") from exc
