"""Server-side sessions. The cookie holds only a random id (`secrets.token_urlsafe(32)`); the table stores its
SHA-256, the user, the CSRF token and, before sign-in, the OIDC state/nonce/PKCE verifier. Idle and absolute
expiry are checked on every load against an injectable clock; sign-in rotates the id (no fixation) and sign-out
deletes the row."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, delete, insert, select, update

Clock = Callable[[], float]


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    session_id: str  # the raw id (only ever in the cookie and in memory)
    user_id: str | None
    created_at: float
    last_seen: float
    csrf_token: str
    oidc_state: str | None = None
    oidc_nonce: str | None = None
    oidc_verifier: str | None = None

    @property
    def ref(self) -> str:
        """A non-reversible reference for audit records (never the id itself)."""
        return digest("ref:" + self.session_id)[:32]


def sessions_table(metadata: MetaData, name: str) -> Table:
    return Table(
        name, metadata,
        Column("id_sha256", String(64), primary_key=True),
        Column("user_id", String(36), nullable=True, index=True),
        Column("created_at_ms", BigInteger, nullable=False),
        Column("last_seen_ms", BigInteger, nullable=False),
        Column("csrf_token", String(64), nullable=False),
        Column("oidc_state", String(128), nullable=True),
        Column("oidc_nonce", String(128), nullable=True),
        Column("oidc_verifier", String(128), nullable=True),
    )


class SessionStore:
    def __init__(self, engine: Engine, table_name: str, idle_seconds: float = 30 * 60,
                 absolute_seconds: float = 12 * 3600, clock: Clock = time.time) -> None:
        self.engine = engine
        self.metadata = MetaData()
        self.table = sessions_table(self.metadata, table_name)
        self.idle_seconds = idle_seconds
        self.absolute_seconds = absolute_seconds
        self.clock = clock

    def create_tables(self) -> None:
        self.metadata.create_all(self.engine)

    def create(self, user_id: str | None = None, **oidc: str | None) -> Session:
        now = self.clock()
        sid = secrets.token_urlsafe(32)
        s = Session(sid, user_id, now, now, secrets.token_urlsafe(32), oidc.get("oidc_state"),
                    oidc.get("oidc_nonce"), oidc.get("oidc_verifier"))
        with self.engine.begin() as conn:
            conn.execute(insert(self.table).values(
                id_sha256=digest(sid), user_id=user_id, created_at_ms=int(now * 1000), last_seen_ms=int(now * 1000),
                csrf_token=s.csrf_token, oidc_state=s.oidc_state, oidc_nonce=s.oidc_nonce,
                oidc_verifier=s.oidc_verifier))
        return s

    def load(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, touched; None (and the row deleted) when expired or unknown."""
        if not session_id or len(session_id) > 100:
            return None
        key = digest(session_id)
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(select(self.table).where(self.table.c.id_sha256 == key)).first()
            if row is None:
                return None
            m = row._mapping
            created, seen = m["created_at_ms"] / 1000, m["last_seen_ms"] / 1000
            if now - seen > self.idle_seconds or now - created > self.absolute_seconds:
                conn.execute(delete(self.table).where(self.table.c.id_sha256 == key))
                return None
            conn.execute(update(self.table).where(self.table.c.id_sha256 == key)
                         .values(last_seen_ms=int(now * 1000)))
        return Session(session_id, m["user_id"], created, now, m["csrf_token"], m["oidc_state"], m["oidc_nonce"],
                       m["oidc_verifier"])

    def rotate(self, old: Session | None, user_id: str) -> Session:
        """Sign-in: the pre-auth session (if any) is destroyed and a fresh id issued for the user."""
        if old is not None:
            self.delete(old.session_id)
        return self.create(user_id)

    def delete(self, session_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.id_sha256 == digest(session_id)))

    def delete_user(self, user_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(self.table).where(self.table.c.user_id == user_id))

    def purge_expired(self) -> int:
        now = self.clock()
        t = self.table
        with self.engine.begin() as conn:
            result = conn.execute(delete(t).where(
                (t.c.last_seen_ms < int((now - self.idle_seconds) * 1000))
                | (t.c.created_at_ms < int((now - self.absolute_seconds) * 1000))))
        return result.rowcount
