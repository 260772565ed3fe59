"""Sign-in attempt limits per login and per client address, stored in the database so that several web
processes share them. Keys are hashed (a login is not stored in clear here)."""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable

from sqlalchemy import BigInteger, Column, Engine, Index, Integer, MetaData, String, Table, delete, func, insert, select


def attempts_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("key_sha256", String(64), nullable=False),
        Column("at_ms", BigInteger, nullable=False),
        Index(f"ix_{name}_key_at", "key_sha256", "at_ms"),
    )


def _key(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value.strip().lower()}".encode()).hexdigest()


class SignInLimiter:
    def __init__(self, engine: Engine, table_name: str, max_attempts: int = 5, window_seconds: int = 300,
                 clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.table = attempts_table(self.metadata, table_name)
        self.max_attempts = max_attempts
        self.window_seconds = window_seconds
        self.clock = clock

    def create_tables(self) -> None:
        self.metadata.create_all(self.engine)

    def _keys(self, login: str, address: str) -> list[str]:
        return [_key("login", login), _key("addr", address)]

    def retry_after(self, login: str, address: str) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now_ms = int(self.clock() * 1000)
        since = now_ms - self.window_seconds * 1000
        t = self.table
        wait = 0
        with self.engine.connect() as conn:
            for key in self._keys(login, address):
                count, oldest = conn.execute(select(func.count(), func.min(t.c.at_ms))
                                             .where(t.c.key_sha256 == key, t.c.at_ms > since)).one()
                if count >= self.max_attempts and oldest is not None:
                    wait = max(wait, math.ceil((oldest + self.window_seconds * 1000 - now_ms) / 1000))
        return max(wait, 0)

    def record_failure(self, login: str, address: str) -> None:
        now_ms = int(self.clock() * 1000)
        with self.engine.begin() as conn:
            conn.execute(insert(self.table), [{"key_sha256": k, "at_ms": now_ms} for k in self._keys(login, address)])
            conn.execute(delete(self.table).where(self.table.c.at_ms < now_ms - self.window_seconds * 1000))

    def reset_login(self, login: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.key_sha256 == _key("login", login)))
