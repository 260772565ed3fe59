"""Composition root of ingest: reads settings and wires the real adapters."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import Engine

from eahub.core.database import is_postgres, make_engine
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.readiness import Readiness, database_check, publisher_checks
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.ingest.accept import IngestPorts
from eahub.ingest.app import create_app
from eahub.ingest.idempotency import Idempotency, IdempotencyRecords, SqlIdempotencyRecords
from eahub.ingest.idempotency_sqlite import SqliteIdempotencyRecords
from eahub.ingest.kafka_publisher import ingest_publisher
from eahub.ingest.settings import IngestSettings
from eahub.ingest.tokens import TokenStore
from eahub.policy.break_glass import BreakGlassPort


def now() -> datetime:
    return datetime.now(UTC)


def idempotency_records(engine: Engine) -> IdempotencyRecords:
    """SQLite through its driver (the embedded default's hot path), PostgreSQL through SQLAlchemy."""
    return SqlIdempotencyRecords(engine) if is_postgres(engine) else SqliteIdempotencyRecords(engine)


def build_app(settings: HubSettings, ingest: IngestSettings | None = None,
              overrides: BreakGlassPort | None = None) -> FastAPI:
    """`overrides`: break-glass for `POST /v1/overrides`, composed by the hub (it needs the router and the
    ledger); without it the route is not offered."""
    ingest = ingest or IngestSettings()
    engine = make_engine(settings.ledger_url)
    ports = IngestPorts(
        publisher=ingest_publisher(settings, ingest.publish_timeout_seconds, ingest.linger_ms),
        idempotency=Idempotency(idempotency_records(engine), ingest.idempotency_lease_ms),
        pseudonymiser=Pseudonymiser.from_data_dir(settings.data_dir),
        agency_ids=agency_ids(settings.policies_dir),
        clock=now,
        clock_skew=ingest.clock_skew,
    )
    readiness = Readiness({**publisher_checks(ports.publisher), "database": database_check(engine)})
    return create_app(ports=ports, tokens=TokenStore.in_data_dir(settings.data_dir),
                      max_body_bytes=ingest.max_body_bytes, overrides=overrides, readiness=readiness)
