"""Test helpers shared across suites: a valid concern event in Avro record form, and broker reading."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from confluent_kafka import Consumer, TopicPartition
from sqlalchemy import Engine

from eahub.audit.bootstrap import AuditParts, init_audit, open_audit
from eahub.audit.settings import AuditSettings
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import ensure_schema
from eahub.core.settings import HubSettings


def concern_event(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "occurred_at": now - timedelta(minutes=30),
        "reported_at": now - timedelta(minutes=20),
        "source_agency": "lancashire-police",
        "source_reference": "LC-20261122-0042",
        "category": "MENTAL_HEALTH",
        "grade": "GRADE_2",
        "security_marking": "OFFICIAL",
        "district": "Preston",
        "subject": {"name": "Alex Example", "date_of_birth": date(1990, 4, 1), "nhs_number": "9434765919",
                    "address": "12 Example Street, Preston"},
        "narrative": "Caller worried about neighbour in crisis",
        "health_details": "Known to community mental health team",
        "risk_factors": ["self-harm"],
        "linked_people": [],
        "referrer": {"name": "Sam Neighbour", "contact": "07700 900123", "relationship": "neighbour"},
        "consent": {"status": "NOT_SOUGHT", "recorded_by": "PC 1234"},
        "restricted_to": None,
    }
    event.update(overrides)
    return event


def read_all(settings: HubSettings, topic: str, expect: int | None = None, timeout_s: float = 20.0,
             settle_s: float = 1.0) -> list[Any]:
    """Every message currently on `topic` (all partitions), read without a consumer group.
    With `expect`, waits until that many arrived (or the timeout), then `settle_s` more to catch extras."""
    consumer = Consumer({**settings.kafka_config(), "group.id": f"reader-{uuid.uuid4()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, 0) for p in meta.partitions])
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        settle_until: float | None = None
        while time.monotonic() < deadline:
            msg = consumer.poll(0.2)
            if msg is not None and msg.error() is None:
                out.append(msg)
                continue
            if expect is None or len(out) >= expect:
                settle_until = settle_until or time.monotonic() + settle_s
                if time.monotonic() >= settle_until:
                    break
        return out
    finally:
        consumer.close()


def ledger_store(engine: Engine) -> SqlLedgerStore:
    """A ledger store over a database whose tables were just created, as `eahub audit init` would."""
    ensure_schema(engine)
    return SqlLedgerStore(engine)


def initialised_audit(settings: HubSettings, audit_settings: AuditSettings | None = None) -> AuditParts:
    """`eahub audit init`, then the parts the audit service and its commands open (without DDL)."""
    init_audit(settings)
    return open_audit(settings, audit_settings)
