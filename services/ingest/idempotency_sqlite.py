"""The idempotency records on SQLite (the embedded default) through the driver itself: the same table, rows and
answers as `SqlIdempotencyRecords` (which serves PostgreSQL), without SQLAlchemy's statement execution and
connection checkout around every write and read (with them, the records took about a third of a request's CPU).
The connections come from the hub's engine, so they have its settings (WAL, busy timeout). Writes of concurrent
requests share transactions on one connection (`GroupCommit`); reads have a connection of their own, so that
they see committed rows only. The primary key keeps a claim unique across processes."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from sqlalchemy import Engine

from eahub.ingest.group_commit import GroupCommit
from eahub.ingest.idempotency import DONE, PENDING, IdempotencyRow, idempotency_table

_TABLE = idempotency_table.name
_COLUMNS = [c.name for c in idempotency_table.columns]  # IdempotencyRow's fields, in order
_INSERT = (f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "
           "ON CONFLICT (event_id) DO NOTHING")
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM {_TABLE} WHERE event_id = ?"
_TAKE_OVER = (f"UPDATE {_TABLE} SET claim_token = ?, claimed_at_ms = ? "
              f"WHERE event_id = ? AND state = '{PENDING}' AND claim_token = ?")
_COMPLETE = f"UPDATE {_TABLE} SET state = '{DONE}', completed_at_ms = ? WHERE event_id = ? AND state = '{PENDING}'"
_RELEASE = f"DELETE FROM {_TABLE} WHERE event_id = ? AND state = '{PENDING}' AND claim_token = ?"


class SqliteIdempotencyRecords:
    def __init__(self, engine: Engine) -> None:
        self._held = [engine.raw_connection(), engine.raw_connection()]  # out of the pool while referenced
        self._writer, self._reader = (_autocommit(held.driver_connection) for held in self._held)
        self._reading = threading.Lock()  # one connection is used by one thread at a time
        self._writes: GroupCommit[sqlite3.Connection] = GroupCommit(self._transaction)

    def insert_pending(self, row: IdempotencyRow) -> bool:
        values = tuple(getattr(row, name) for name in _COLUMNS)
        return self._writes.run(lambda conn: conn.execute(_INSERT, values).rowcount == 1)

    def get(self, event_id: str) -> IdempotencyRow | None:
        with self._reading:
            found = self._reader.execute(_SELECT, (event_id,)).fetchone()
        return IdempotencyRow(*found) if found else None

    def take_over(self, event_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        values = (new_token, now_ms, event_id, old_token)
        return self._writes.run(lambda conn: conn.execute(_TAKE_OVER, values).rowcount == 1)

    def complete(self, event_id: str, now_ms: int) -> None:
        self._writes.defer(lambda conn: conn.execute(_COMPLETE, (now_ms, event_id)))

    def release(self, event_id: str, token: str) -> None:
        self._writes.run(lambda conn: conn.execute(_RELEASE, (event_id, token)))

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._writer
        conn.execute("BEGIN IMMEDIATE")  # the write lock now, so the busy timeout covers the whole transaction
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def _autocommit(driver_connection: object) -> sqlite3.Connection:
    """In autocommit mode: transactions are begun and ended explicitly, reads take none."""
    conn = cast(sqlite3.Connection, driver_connection)
    conn.isolation_level = None
    return conn
