"""Retrying database work that may succeed later (a locked SQLite file, a dropped PostgreSQL connection,
a concurrent writer taking the same ledger positions); anything else is raised at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from eahub.audit.store import StoreConflict

T = TypeVar("T")


class DatabaseUnavailable(RuntimeError):
    """Transient database errors went on for every attempt: the service must stop, loudly."""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError | StoreConflict):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def retry_transient(
    action: Callable[[], T],
    attempts: int,
    stop: threading.Event | None = None,
    first_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    delay = first_delay_s
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == attempts or (stop is not None and stop.is_set()):
                raise DatabaseUnavailable(
                    f"audit database unavailable after {attempt} attempts ({type(exc).__name__})"
                ) from exc
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, max_delay_s)
    raise AssertionError("attempts must be at least 1")
