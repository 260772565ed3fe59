"""Break-glass: a designated role overrides a refusal for one event and one recipient, with a mandatory
justification. The original event is read again from its inbound topic (the decision entry of the audit
trail says where), decided again with the override, and — only if the policy grants it — shared with a
bounded field set, marked as an override, and put on the IG review queue. Granted or refused, the
attempt is audited. The justification's text goes to the recipient with the case (and so to the
encrypted vault); the chain keeps only its SHA-256."""

from __future__ import annotations

import hashlib
import traceback
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Consumer, TopicPartition

from eahub.core import avro_codec, ids, schemas
from eahub.core.messages import OutboundMessage, Publisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.policy.engine import PolicyEngine
from eahub.policy.model import Decision, Override, PolicyRequest
from eahub.router.outputs import ResponseTimes, override_attempt_entry, override_outputs, publish_records_first


class OverrideError(ValueError):
    """The override cannot be attempted (unknown event, original message gone, bad request)."""


class OverrideForbidden(OverrideError):
    """The requester may not break glass on this event (it is not the event's originator)."""


@dataclass(frozen=True)
class OverrideOutcome:
    granted: bool
    event_id: str
    recipient: str
    decision_id: str
    case_id: str | None
    reasons: tuple[str, ...]


def find_origin(trail: list[dict[str, Any]]) -> tuple[str, int, int]:
    for entry in trail:
        details = entry.get("details") or {}
        if entry.get("kind") == "DECISION" and "inbound_topic" in details:
            return details["inbound_topic"], int(details["inbound_partition"]), int(details["inbound_offset"])
    raise OverrideError("no routing decision is recorded for this event; nothing to override")


def read_original(settings: HubSettings, topic: str, partition: int, offset: int, event_id: str) -> dict[str, Any]:
    consumer = Consumer({**settings.kafka_config(), "group.id": f"eahub-override-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    try:
        consumer.assign([TopicPartition(topic, partition, offset)])
        msg = consumer.poll(10)
    finally:
        consumer.close()
    if msg is None or msg.error() is not None or msg.offset() != offset:
        raise OverrideError(f"the original message ({topic} [{partition}] @{offset}) is no longer on the broker")
    _, event = avro_codec.decode(msg.value(), expected=schemas.CONCERN_EVENT)
    if event["event_id"] != event_id:
        raise OverrideError("the message at the recorded position is not this event")
    return event


def check_requester(event: dict[str, Any], requester_agency: str | None) -> None:
    if requester_agency is not None and requester_agency != event["source_agency"]:
        raise OverrideForbidden("only the agency that published this event can break glass on it")


def apply_override(*, event: dict[str, Any], override: Override, engine: PolicyEngine, publisher: Publisher,
                   pseudonymiser: Pseudonymiser, times: ResponseTimes, origin: dict[str, str],
                   requester_agency: str | None = None, now: datetime | None = None) -> OverrideOutcome:
    """`requester_agency`: the agency asking (HTTP); it must be the event's source. None: the hub's operator."""
    check_requester(event, requester_agency)
    if not override.justification.strip():
        raise OverrideError("a justification is mandatory for a break-glass override")
    if override.recipient == event["source_agency"]:
        raise OverrideError("the recipient is the event's own source agency")
    now = now or datetime.now(UTC)
    decision: Decision = engine.decide([PolicyRequest(event=event, today=now.date(), override=override)])[0]
    try:
        r = decision.for_agency(override.recipient)
    except KeyError:
        raise OverrideError(f"{override.recipient} is not a registered recipient") from None
    subject_ref = pseudonymiser.subject_ref(event)
    justification_sha256 = hashlib.sha256(override.justification.encode()).hexdigest()
    granted = r.shared and r.override
    outputs: list[OutboundMessage]
    if granted:
        outputs = override_outputs(event, decision, r, subject_ref, now, times, override, justification_sha256,
                                   origin)
    else:
        outputs = [override_attempt_entry(event, decision, r, subject_ref, now, override, justification_sha256)]
    publish_records_first(publisher, outputs)
    return OverrideOutcome(
        granted=granted, event_id=event["event_id"], recipient=r.agency, decision_id=decision.decision_id,
        case_id=ids.case_id(event["event_id"], r.agency, decision.decision_id) if granted else None,
        reasons=r.reasons,
    )


def override_event(settings: HubSettings, *, event_id: str, override: Override,
                   requester_agency: str | None = None) -> OverrideOutcome:
    """Composition root of one override (CLI and HTTP): ledger -> original message -> decision -> outputs."""
    from eahub.audit.bootstrap import open_audit
    from eahub.audit.queries import trail
    from eahub.core.kafka import KafkaPublisher, producer_config
    from eahub.policy.bootstrap import build_engine

    audit = open_audit(settings)
    try:
        topic, partition, offset = find_origin(trail(audit.store, event_id))
    finally:
        audit.engine.dispose()
    event = read_original(settings, topic, partition, offset, event_id)
    check_requester(event, requester_agency)
    publisher = KafkaPublisher(producer_config(settings))
    engine = build_engine(settings)
    try:
        return apply_override(
            event=event, override=override, engine=engine, publisher=publisher,
            pseudonymiser=Pseudonymiser.from_data_dir(settings.data_dir),
            times=ResponseTimes(settings.grade2_response_minutes, settings.grade3_response_minutes),
            origin={"inbound_topic": topic, "inbound_partition": str(partition), "inbound_offset": str(offset)},
            requester_agency=requester_agency,
        )
    except BaseException as exc:
        # The embedded engine is bound to this thread. An exception's frames would carry it to whichever
        # thread handles the exception, and drop it there: clear those frames here.
        traceback.clear_frames(exc.__traceback__)
        raise
    finally:
        del engine
        publisher.close()
