"""The router's durable memory of what each event id carried: event id -> SHA-256 of the event's content
(its Avro encoding). The first content routed under an event id is the one the vault keeps for that id's
cases, so a later message reusing the id with different content must be refused (dead letter
`event-id-reused` and an audit entry), as ingest refuses it over HTTP with a 409 — otherwise a board could
hold a disclosure whose content the trail does not.

Where: table `router_event_digests` in the hub's database (the ledger's: SQLite file by default, PostgreSQL
with EAHUB_DATABASE_URL), created by `eahub init` as the tables' owner. The router only SELECTs and INSERTs
(never updates or deletes), which the least-privilege grants of `eahub audit grants` cover (they cover every
table of the database). Concurrent routers are safe: the primary key decides which content came first. A
replay of the same message re-inserts nothing and finds its own digest."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from eahub.core import avro_codec, schemas
from eahub.core.database import make_engine
from eahub.core.settings import HubSettings

_metadata = MetaData()
digests_table = Table(
    "router_event_digests", _metadata,
    Column("event_id", String, primary_key=True),
    Column("content_sha256", String(64), nullable=False),
)


def create_tables(engine: Engine) -> None:
    """Created by `eahub init` (idempotent), never by the router."""
    _metadata.create_all(engine, checkfirst=True)


def content_digest(event: dict[str, Any]) -> str:
    """The event was decoded from a ConcernEvent: re-encoding it needs no validation (the bytes are the same)."""
    return hashlib.sha256(avro_codec.encode(schemas.CONCERN_EVENT, event, check=False)).hexdigest()


class EventDigests:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def first_seen(self, digests: dict[str, str]) -> dict[str, str]:
        """Record `event id -> digest` for ids not seen before; return, for every given id, the digest of the
        first content seen under it (the given one when new). One transaction; raises database errors."""
        if not digests:
            return {}
        insert = pg_insert if self.engine.dialect.name == "postgresql" else sqlite_insert
        rows = [{"event_id": k, "content_sha256": v} for k, v in digests.items()]
        # Rows as executemany parameters, not a VALUES list: one statement whatever the batch's size, compiled once
        # (a VALUES list of n rows was a new statement to compile for every n, 4 ms a batch on the router's thread).
        with self.engine.begin() as conn:
            conn.execute(insert(digests_table).on_conflict_do_nothing(index_elements=["event_id"]), rows)
            found = conn.execute(select(digests_table.c.event_id, digests_table.c.content_sha256)
                                 .where(digests_table.c.event_id.in_(list(digests))))
            return {event_id: digest for event_id, digest in found}


def open_event_digests(settings: HubSettings) -> EventDigests:
    """The router's memory in the hub database; its table missing is a misconfiguration, fatal at start-up."""
    engine = make_engine(settings.ledger_url)
    if not inspect(engine).has_table(digests_table.name):
        engine.dispose()
        raise RuntimeError(f"table {digests_table.name} is missing: run `eahub init` first (as the tables' owner)")
    return EventDigests(engine)
