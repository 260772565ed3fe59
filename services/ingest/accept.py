"""The ingest handler: accept one concern event from an authenticated agency. A plain function over
small ports (publisher, idempotency records, pseudonymiser, clock); the HTTP app only translates."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from eahub.core.errors import FieldError
from eahub.core.event_json import to_json
from eahub.core.messages import DeliveryFailed, Publisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.topics import inbound
from eahub.ingest.idempotency import Idempotency, Outcome, body_hash, json_body_hash
from eahub.ingest.message import concern_message
from eahub.ingest.validation import DEFAULT_CLOCK_SKEW, advisories, check_source, validate_and_encode


class IdConflict(Exception):
    """The event id was already used with a different body (or is still being written)."""

    def __init__(self, event_id: str, in_progress: bool = False) -> None:
        self.event_id, self.in_progress = event_id, in_progress
        super().__init__(event_id)


class PublishUnconfirmed(DeliveryFailed):
    """The broker did not confirm the write in time: it may or may not have happened. Retrying with the same
    `event_id` is safe (every downstream store dedupes on ids derived from it)."""

    def __init__(self, event_id: str, reason: str) -> None:
        self.event_id = event_id
        super().__init__(reason)


@dataclass(frozen=True)
class Accepted:
    event_id: str
    topic: str
    replayed: bool  # True: an earlier identical request already published it; nothing new was sent
    warnings: list[FieldError] = field(default_factory=list)


@dataclass
class IngestPorts:
    publisher: Publisher
    idempotency: Idempotency
    pseudonymiser: Pseudonymiser
    agency_ids: Collection[str]
    clock: Callable[[], datetime]
    clock_skew: timedelta = DEFAULT_CLOCK_SKEW
    poll_s: float = 0.05  # how often a concurrent duplicate re-checks a live claim


def accept_event(obj: Any, agency: str, ports: IngestPorts) -> Accepted:
    """Validate, then publish to `eahub.inbound.<agency>` once per event id, returning only after the
    broker's ack. Raises SourceMismatch, ValidationFailed, IdConflict, or PublishUnconfirmed (the claim
    is released, so a retry with the same event id publishes; the earlier write may have landed too, which
    downstream dedupes)."""
    check_source(obj, agency)
    record, encoded = validate_and_encode(obj, ports.agency_ids, ports.clock(), ports.clock_skew)
    event_id, topic = record["event_id"], inbound(agency)
    digest = body_hash(encoded)
    warnings = advisories(record)
    deadline = time.monotonic() + ports.idempotency.lease_ms / 1000 + 1
    while True:
        claim = ports.idempotency.claim(event_id, digest, agency, _ms(ports.clock()),
                                        earlier_digest=lambda: json_body_hash(to_json(record)))
        if claim.outcome is Outcome.DONE:
            return Accepted(event_id, topic, replayed=True, warnings=warnings)
        if claim.outcome is Outcome.CONFLICT:
            raise IdConflict(event_id)
        if claim.outcome is Outcome.NEW:
            break
        if time.monotonic() > deadline:
            raise IdConflict(event_id, in_progress=True)
        time.sleep(ports.poll_s)
    try:
        ports.publisher.publish([concern_message(record, encoded, agency, ports.pseudonymiser)])
    except DeliveryFailed as exc:
        ports.idempotency.release(event_id, claim.token)
        raise PublishUnconfirmed(event_id, str(exc)) from exc
    except BaseException:
        ports.idempotency.release(event_id, claim.token)
        raise
    ports.idempotency.complete(event_id, _ms(ports.clock()))
    return Accepted(event_id, topic, replayed=False, warnings=warnings)


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
