"""The audit service on the real embedded broker: AuditEntry messages (one replayed) and a garbage
message on eahub.audit, a RoutedCase on a board topic; the service running in a thread appends each
entry once, dead-letters the garbage with its original bytes, seals the case into the vault, and
publishes a signed tree head to eahub.audit.checkpoints."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest

from eahub.audit.bootstrap import build_audit_service
from eahub.audit.published import head_from_record, read_published_heads
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import head_problem
from eahub.audit.verify import verify_ledger
from eahub.core import avro_codec, schemas, topics
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.init import initialise
from tests.helpers import initialised_audit, read_all
from tests.integration.test_audit_governance import routed_case
from tests.unit.test_audit_entries import audit_entry

pytestmark = pytest.mark.integration


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_audit_service_consumes_dedupes_dead_letters_and_checkpoints(
    hub_settings: HubSettings, database_url: str
) -> None:
    hub_settings = hub_settings.model_copy(update={"database_url": database_url})
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    initialise(hub_settings)
    run_id = uuid.uuid4().hex[:8]
    subject = f"subj-{run_id}"
    batch = [
        audit_entry(i, kind, subject_ref=subject, entry_id=f"{run_id}-{i}", event_id=f"event-{run_id}")
        for i, kind in enumerate(["DECISION", "DISCLOSURE", "REFUSAL", "DISCLOSURE", "CONSULTATION", "ACTION"])
    ]
    garbage = b"\x00not an avro message " + run_id.encode()
    case = routed_case(subject, recipient="nwas")
    msgs = [OutboundMessage(topics.AUDIT, subject.encode(), avro_codec.encode(schemas.AUDIT_ENTRY, e)) for e in batch]
    msgs.append(msgs[1])  # a replayed duplicate
    msgs.append(OutboundMessage(topics.AUDIT, b"garbage", garbage, [("ce_id", run_id.encode())]))
    msgs.append(OutboundMessage(topics.board("nwas"), subject.encode(), avro_codec.encode(schemas.ROUTED_CASE, case)))
    publisher = KafkaPublisher(producer_config(hub_settings))
    publisher.publish(msgs)
    publisher.close()

    service = build_audit_service(
        hub_settings,
        AuditSettings(checkpoint_every_entries=3, checkpoint_every_seconds=1),
        group_id=f"audit-test-{run_id}",
    )
    parts = initialised_audit(hub_settings)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: all(parts.store.get(e["entry_id"]) for e in batch)), "entries not appended"
        assert wait_for(lambda: bool(parts.vault.payloads(subject))), "routed case not sealed into the vault"
        assert wait_for(lambda: any(h.tree_size >= len(batch) for h in parts.store.tree_heads()))
    finally:
        stop.set()
        thread.join(20)
    assert not thread.is_alive()

    mine = [r for r in parts.store.rows() if r.subject_ref == subject]
    assert sorted(r.entry_id for r in mine) == sorted(e["entry_id"] for e in batch)  # each exactly once
    [payload] = parts.vault.payloads(subject)
    assert payload.case_id == case["case_id"] and payload.record["concern"] == case["concern"]
    assert verify_ledger(parts.engine, parts.signer.public_key).ok

    dead = [
        m
        for m in read_all(hub_settings, topics.DEADLETTER)
        if m.value() and avro_codec.decode(m.value())[1]["original_value"] == garbage
    ]
    assert len(dead) == 1
    record = avro_codec.decode(dead[0].value(), expected=schemas.DEAD_LETTER)[1]
    headers = dict(dead[0].headers())
    assert record["error_kind"] == "UNDECODABLE" and record["component"] == "audit"
    assert headers["eahub_error_kind"] == b"UNDECODABLE" and headers["ce_id"] == run_id.encode()
    assert record["original_topic"] == topics.AUDIT

    heads = [
        head_from_record(r)
        for r in (
            avro_codec.decode(m.value(), expected=schemas.SIGNED_TREE_HEAD)[1]
            for m in read_all(hub_settings, topics.AUDIT_CHECKPOINTS)
        )
        if r["key_id"] == parts.signer.key_id
    ]
    assert heads and all(head_problem(h, parts.signer.public_key) is None for h in heads)
    assert {h.tree_size for h in heads} <= {h.tree_size for h in parts.store.tree_heads()}
    assert service.stats.duplicates >= 1 and service.stats.dead_letters >= 1
    assert verify_ledger(parts.engine, parts.signer.public_key, read_published_heads(hub_settings)).ok
