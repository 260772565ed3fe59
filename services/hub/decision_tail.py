"""Follows the audit topic and prints one line per decision: ids, category, grade and recipients only,
never personal data (the audit trail holds none)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from confluent_kafka import TopicPartition

from eahub.core import topics
from eahub.core.audit_entries import entries_of
from eahub.core.kafka import reader
from eahub.core.settings import HubSettings


def decision_line(entry: dict) -> str | None:
    if entry["kind"] != "DECISION":
        return None
    if entry["details"].get("outcome") == "policy-unavailable":
        return f"{entry['occurred_at']:%H:%M:%S}  event {entry['event_id']}  PARKED: policy engine unavailable"
    return (f"{entry['occurred_at']:%H:%M:%S}  event {entry['event_id']}  {entry['category']:<25} "
            f"{entry['details'].get('grade', ''):<7}  from {entry['source_agency']:<23} "
            f"shared -> {entry['details'].get('shared_with') or 'none'}  |  "
            f"refused -> {entry['details'].get('refused') or 'none'}")


def follow_decisions(settings: HubSettings, emit: Callable[[str], None]) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        consumer = reader(settings, "demo-tail")
        try:
            meta = consumer.list_topics(topics.AUDIT, timeout=10).topics[topics.AUDIT]
            consumer.assign([TopicPartition(topics.AUDIT, p, 0) for p in meta.partitions])
            while not stop.is_set():
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                try:
                    entries = entries_of(msg.value())
                except ValueError:  # undecodable or not audit entries: the audit service dead-letters it
                    continue
                for entry in entries:
                    line = decision_line(entry)
                    if line:
                        emit(line)
        finally:
            consumer.close()

    return run
