"""Effectively-once across a crash: the router dies after its outputs were acknowledged but before it
committed the batch's offsets. Its successor in the same group re-reads that batch and produces the same
outputs with the same ids; the audit ledger keeps each entry once, and every event is decided."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eahub.audit.bootstrap import build_audit_service
from eahub.audit.queries import query
from eahub.audit.store import EntryFilter
from eahub.audit.verify import verify_ledger
from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.event_json import from_json
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage, Publisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from eahub.ingest.generator import generate
from eahub.router.bootstrap import build_router
from tests.helpers import initialised_audit, read_all

pytestmark = pytest.mark.integration
EVENTS = 120


class Crash(Exception):
    pass


class CrashAfterPublishing:
    """Publishes for real, then 'dies' before the router can commit: the crash window that matters."""

    def __init__(self, inner: Publisher, batches_before_crash: int) -> None:
        self.inner, self.left = inner, batches_before_crash

    def publish(self, messages: list[OutboundMessage]) -> None:
        self.inner.publish(messages)
        self.left -= 1
        if self.left == 0:
            raise Crash

    def close(self) -> None:
        self.inner.close()


def _run_router(settings: HubSettings, crash_after: int | None, seen: set[str]) -> int:
    """Run a router in its own thread (the embedded engine is thread-bound) until it crashes or every event
    has been decided by one router or the other; return how many events it decided."""
    decided: list[int] = []
    done = threading.Event()

    def run() -> None:
        router = build_router(settings, group_id="replay-router")
        router.batch_size = 25
        if crash_after is not None:
            router.publisher = CrashAfterPublishing(router.publisher, crash_after)
        stop = threading.Event()

        def on_decision(event: dict, _decision: object) -> None:
            seen.add(event["event_id"])
            if len(seen) == EVENTS:
                stop.set()

        router.on_decision = on_decision
        try:
            router.run(stop)
        except Crash:
            pass
        finally:
            decided.append(router.stats.events)
            done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(90), "router did not finish"
    return decided[0]


def test_a_crash_between_acknowledgement_and_commit_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    with EmbeddedBroker(free_port(), log_path=tmp_path / "broker.log") as broker:
        settings = HubSettings(data_dir=tmp_path / "data", broker_port=broker.port, inbound_partitions=1)
        initialise(settings)
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        pseudo = Pseudonymiser.from_data_dir(settings.data_dir)
        events = [from_json(o) for o in generate(EVENTS, seed=5, start=datetime.now(UTC) - timedelta(days=3))]
        publisher = KafkaPublisher(producer_config(settings))
        publisher.publish([OutboundMessage(topics.inbound(e["source_agency"]), pseudo.subject_ref(e).encode(),
                                           avro_codec.encode(schemas.CONCERN_EVENT, e)) for e in events])
        publisher.close()

        seen: set[str] = set()
        first = _run_router(settings, crash_after=2, seen=seen)
        assert 0 < first < EVENTS, "the first router must die part-way"
        second = _run_router(settings, crash_after=None, seen=seen)
        assert first + second > EVENTS, "the successor re-read the batch that was never committed"

        entries = [e for m in read_all(settings, topics.AUDIT, expect=0, settle_s=0.5)
                   for e in entries_of(m.value())]
        per_id = Counter(e["entry_id"] for e in entries)
        assert max(per_id.values()) == 2, "the replayed batch carries the very same entry ids"
        decided = {e["event_id"] for e in entries if e["kind"] == "DECISION"}
        assert decided == {e["event_id"] for e in events}, "every event was decided"

        stop = threading.Event()
        audit = build_audit_service(settings, group_id="replay-audit")
        thread = threading.Thread(target=audit.run, args=(stop,), daemon=True)
        thread.start()
        parts = initialised_audit(settings)
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while len(parts.store.find(EntryFilter())) < len(per_id) and datetime.now(UTC) < deadline:
            stop.wait(0.3)
        stop.set()
        thread.join(15)
        ledger = query(parts.store, EntryFilter())
        assert len(ledger) == len(per_id), "the ledger keeps each entry exactly once"
        assert verify_ledger(parts.store, parts.signer.public_key).ok
