"""Idempotency on event_id for the HTTP API: the same body again gets the same answer and no second
message; a different body under a used id is a conflict.

Two steps around the publish, so that no crash can lose an event or make a retry fail:
1. `claim` records the id as *pending* (with the body hash, the agency, a claim token and time);
2. after the broker acknowledged the message, `complete` marks it *done* (in the SQL adapters, in the next
   transaction of the writes beside it, without waiting for its commit).
If the publish fails the claim is released, so a retry publishes. If the process dies between the
broker's ack and `complete` (or before the publish), the claim stays pending; once its lease has
expired a retry of the same body takes it over and publishes again - at-least-once, which the
downstream stores dedupe by the deterministic ids derived from the event id. A concurrent duplicate
that finds a live pending claim waits for it (see `accept.py`) instead of publishing a second time.

The port (`IdempotencyRecords`) holds rows; the decision logic lives once, in `Idempotency`."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any, Protocol

from sqlalchemy import BigInteger, Column, Engine, MetaData, String, Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from eahub.core.database import is_postgres
from eahub.ingest.group_commit import GroupCommit

PENDING, DONE = "pending", "done"
DEFAULT_LEASE_MS = 60_000  # longer than any publisher's delivery timeout (IngestSettings derives its own)


def body_hash(encoded: bytes) -> str:
    """SHA-256 of the validated event's Avro encoding, the bytes published: equivalent spellings of an event
    validate to one record and so hash alike (the schema has no maps, so a record has one encoding)."""
    return hashlib.sha256(encoded).hexdigest()


def json_body_hash(json_form: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the validated event: the body hash of the rows recorded before 2026-12-02,
    still recognised (`Idempotency.claim`), so a replay of an event accepted then is answered as before."""
    canonical = json.dumps(json_form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class IdempotencyRow:
    event_id: str
    body_sha256: str
    agency: str
    state: str
    claim_token: str
    claimed_at_ms: int
    completed_at_ms: int | None = None


class IdempotencyRecords(Protocol):
    def insert_pending(self, row: IdempotencyRow) -> bool:
        """Insert a new pending row; False (and no change) if the event id is already recorded."""

    def get(self, event_id: str) -> IdempotencyRow | None: ...

    def take_over(self, event_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        """Replace a pending claim's token and time, only if it still holds `old_token`."""

    def complete(self, event_id: str, now_ms: int) -> None:
        """Mark the event done (idempotent). May return before that is durable, once the event is acknowledged:
        until it is, a duplicate finds the claim live and waits; after a crash, the lease runs out."""

    def release(self, event_id: str, token: str) -> None:
        """Forget a pending claim held under `token` (the publish failed)."""


class Outcome(Enum):
    NEW = "new"  # the caller holds the claim and must publish, then complete or release
    DONE = "done"  # already published with this body: answer as before, publish nothing
    IN_PROGRESS = "in-progress"  # another request holds a live claim on this body: wait and ask again
    CONFLICT = "conflict"  # the id was used with a different body or by another agency


@dataclass(frozen=True)
class Claim:
    outcome: Outcome
    token: str = ""


class Idempotency:
    def __init__(self, records: IdempotencyRecords, lease_ms: int = DEFAULT_LEASE_MS) -> None:
        self.records, self.lease_ms = records, lease_ms

    def claim(self, event_id: str, digest: str, agency: str, now_ms: int,
              earlier_digest: Callable[[], str] | None = None) -> Claim:
        """`earlier_digest`: the same body's hash as rows recorded by an earlier version hold it, computed only
        when a recorded row's hash is not `digest`."""
        token = str(uuid.uuid4())
        while True:
            if self.records.insert_pending(IdempotencyRow(event_id, digest, agency, PENDING, token, now_ms)):
                return Claim(Outcome.NEW, token)
            row = self.records.get(event_id)
            if row is None:
                continue  # released between our insert and read: try again
            same_body = row.body_sha256 == digest or (earlier_digest is not None
                                                      and row.body_sha256 == earlier_digest())
            if not same_body or row.agency != agency:
                return Claim(Outcome.CONFLICT)
            if row.state == DONE:
                return Claim(Outcome.DONE)
            if now_ms - row.claimed_at_ms < self.lease_ms:
                return Claim(Outcome.IN_PROGRESS)
            if self.records.take_over(event_id, row.claim_token, token, now_ms):
                return Claim(Outcome.NEW, token)

    def complete(self, event_id: str, now_ms: int) -> None:
        self.records.complete(event_id, now_ms)

    def release(self, event_id: str, token: str) -> None:
        self.records.release(event_id, token)


class InMemoryIdempotencyRecords:
    def __init__(self) -> None:
        self._rows: dict[str, IdempotencyRow] = {}
        self._lock = threading.Lock()

    def insert_pending(self, row: IdempotencyRow) -> bool:
        with self._lock:
            if row.event_id in self._rows:
                return False
            self._rows[row.event_id] = row
            return True

    def get(self, event_id: str) -> IdempotencyRow | None:
        with self._lock:
            return self._rows.get(event_id)

    def take_over(self, event_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        with self._lock:
            row = self._rows.get(event_id)
            if row is None or row.state != PENDING or row.claim_token != old_token:
                return False
            self._rows[event_id] = replace(row, claim_token=new_token, claimed_at_ms=now_ms)
            return True

    def complete(self, event_id: str, now_ms: int) -> None:
        with self._lock:
            row = self._rows.get(event_id)
            if row is not None and row.state == PENDING:
                self._rows[event_id] = replace(row, state=DONE, completed_at_ms=now_ms)

    def release(self, event_id: str, token: str) -> None:
        with self._lock:
            row = self._rows.get(event_id)
            if row is not None and row.state == PENDING and row.claim_token == token:
                del self._rows[event_id]


_metadata = MetaData()
idempotency_table = Table(
    "ingest_idempotency", _metadata,
    Column("event_id", String(36), primary_key=True),
    Column("body_sha256", String(64), nullable=False),
    Column("agency", String(100), nullable=False),
    Column("state", String(10), nullable=False),
    Column("claim_token", String(36), nullable=False),
    Column("claimed_at_ms", BigInteger, nullable=False),
    Column("completed_at_ms", BigInteger, nullable=True),
)


def create_tables(engine: Engine) -> None:
    """The idempotency table (idempotent): created by `eahub init`, as the tables' owner, never by the service."""
    _metadata.create_all(engine, checkfirst=True)


class SqlIdempotencyRecords:
    """SQLAlchemy Core adapter (PostgreSQL in the service; SQLite works too, where the service uses
    `SqliteIdempotencyRecords`); the primary key makes concurrent claims safe, across
    processes too. Writes of concurrent requests share transactions (`GroupCommit`); an insert that finds the id
    recorded changes nothing (ON CONFLICT DO NOTHING), so it never aborts the writes beside it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writes = GroupCommit(engine.begin)
        t = idempotency_table
        # Built once with bound parameters, so SQLAlchemy computes each statement's cache key once, not per call.
        insert = postgresql_insert if is_postgres(engine) else sqlite_insert
        self._insert = insert(t).on_conflict_do_nothing().returning(t.c.event_id)  # VALUES from the parameters
        self._select = select(t).where(t.c.event_id == bindparam("id"))
        self._take_over = (update(t).where(t.c.event_id == bindparam("id"), t.c.state == PENDING,
                                           t.c.claim_token == bindparam("old_token"))
                           .values(claim_token=bindparam("new_token"), claimed_at_ms=bindparam("now")))
        self._complete = (update(t).where(t.c.event_id == bindparam("id"), t.c.state == PENDING)
                          .values(state=DONE, completed_at_ms=bindparam("now")))
        self._release = delete(t).where(t.c.event_id == bindparam("id"), t.c.state == PENDING,
                                        t.c.claim_token == bindparam("token"))

    def insert_pending(self, row: IdempotencyRow) -> bool:
        return self._writes.run(lambda conn: conn.execute(self._insert, row.__dict__).first() is not None)

    def get(self, event_id: str) -> IdempotencyRow | None:
        with self.engine.connect() as conn:
            found = conn.execute(self._select, {"id": event_id}).first()
        return IdempotencyRow(**found._asdict()) if found else None

    def take_over(self, event_id: str, old_token: str, new_token: str, now_ms: int) -> bool:
        params = {"id": event_id, "old_token": old_token, "new_token": new_token, "now": now_ms}
        return self._writes.run(lambda conn: conn.execute(self._take_over, params).rowcount == 1)

    def complete(self, event_id: str, now_ms: int) -> None:
        self._writes.defer(lambda conn: conn.execute(self._complete, {"id": event_id, "now": now_ms}))

    def release(self, event_id: str, token: str) -> None:
        self._writes.run(lambda conn: conn.execute(self._release, {"id": event_id, "token": token}))
