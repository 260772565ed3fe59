"""Transient database errors are retried (a really locked SQLite file), others are raised at once, a database that
stays unavailable ends in DatabaseUnavailable (the service then stops loudly), and a stop cuts the waiting short."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from eahub.audit.sql_store import SqlLedgerStore
from eahub.core.database import DatabaseUnavailable, with_database_retry
from eahub.core.retry import StopRequested
from tests.helpers import ledger_store
from tests.unit.test_audit_entries import entries

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def locked(tmp_path: Path) -> tuple[SqlLedgerStore, sqlite3.Connection]:
    path = tmp_path / "ledger.db"
    store = ledger_store(create_engine(f"sqlite:///{path}", connect_args={"timeout": 0.05}))
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    return store, holder


def test_a_locked_database_is_retried_until_it_frees(
    locked: tuple[SqlLedgerStore, sqlite3.Connection],
) -> None:
    store, holder = locked
    retries: list[int] = []

    def append() -> list:
        if len(retries) == 3:
            holder.execute("COMMIT")  # the other writer finishes
        return store.append(entries(10), NOW)

    rows = with_database_retry(append, stop=threading.Event(), attempts=10, first_delay_s=0.01,
                               on_retry=lambda n, e, d: retries.append(n))
    assert len(rows) == 10 and retries == [1, 2, 3]


def test_a_database_that_stays_locked_ends_in_database_unavailable(
    locked: tuple[SqlLedgerStore, sqlite3.Connection],
) -> None:
    store, _ = locked
    with pytest.raises(DatabaseUnavailable, match="after 3 attempts"):
        with_database_retry(lambda: store.append(entries(1), NOW), stop=threading.Event(), attempts=3,
                            first_delay_s=0.01)


def test_a_stop_cuts_the_backoff_short(locked: tuple[SqlLedgerStore, sqlite3.Connection]) -> None:
    store, _ = locked
    stop = threading.Event()
    calls: list[int] = []

    def append() -> list:
        calls.append(1)
        stop.set()  # a stop arrives while this attempt fails: the first wait returns at once and ends the retries
        return store.append(entries(1), NOW)

    with pytest.raises(StopRequested):
        with_database_retry(append, stop=stop, attempts=50, first_delay_s=3600, max_delay_s=3600)
    assert calls == [1]


def test_permanent_errors_are_not_retried() -> None:
    calls = []

    def bad() -> None:
        calls.append(1)
        raise ValueError("audit entry field kind is not a known AuditKind")

    with pytest.raises(ValueError, match="kind"):
        with_database_retry(bad, stop=threading.Event(), attempts=5, first_delay_s=0.01)
    assert calls == [1]
