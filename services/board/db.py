"""Transactions on the board database. Writers take the write lock first: SQLite `BEGIN IMMEDIATE`
(so a transaction never has to upgrade a stale read snapshot), PostgreSQL row locks taken by the queries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine

from eahub.core.database import is_postgres


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    with engine.begin() as conn:
        if not is_postgres(engine):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def ms(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return int(moment.timestamp() * 1000)


def at(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC)


def json_form(value: Any) -> Any:
    """A decoded Avro record in JSON form: times and dates as ISO 8601 text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: json_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_form(v) for v in value]
    return value


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
