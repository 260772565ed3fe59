"""The producer client, for agencies that publish to Kafka directly: the same validation, key and
headers as the HTTP API, and `publish` returns only once the broker acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from eahub.core.errors import FieldError, SourceMismatch, ValidationFailed
from eahub.core.event_json import to_json
from eahub.core.messages import OutboundMessage, Publisher
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.ingest.kafka_publisher import ingest_publisher
from eahub.ingest.message import concern_message
from eahub.ingest.tokens import UnknownAgency
from eahub.ingest.validation import DEFAULT_CLOCK_SKEW, advisories, check_source, validate_and_encode


@dataclass(frozen=True)
class PublishResult:
    event_id: str | None  # None when the event was rejected before an id could be trusted
    errors: list[FieldError] = field(default_factory=list)
    warnings: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class ConcernProducer:
    def __init__(self, settings: HubSettings, agency: str, *, publisher: Publisher | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> None:
        self.agency_ids = agency_ids(settings.policies_dir)
        if agency not in self.agency_ids:
            raise UnknownAgency(f"unknown agency {agency!r}; known: {', '.join(sorted(self.agency_ids))}")
        self.agency, self.clock, self.clock_skew = agency, clock, clock_skew
        self.publisher = publisher or ingest_publisher(settings, linger_ms=5)
        self.pseudonymiser = Pseudonymiser.from_data_dir(settings.data_dir)

    def publish(self, event: dict[str, Any]) -> str:
        """Validate one event (JSON form or Avro record form) and publish it; returns its event id.
        Raises ValidationFailed or SourceMismatch (nothing sent), or DeliveryFailed."""
        prepared = self._prepare(event)
        self.publisher.publish([prepared.message])
        return prepared.event_id

    def publish_many(self, events: Iterable[Any], batch_size: int = 500) -> Iterator[PublishResult]:
        """One result per event, in order. Valid events are sent in batches, each acknowledged before
        its results are yielded; invalid ones are reported and skipped. DeliveryFailed propagates."""
        batch: list[_Prepared | PublishResult] = []
        for event in events:
            try:
                batch.append(self._prepare(event))
            except ValidationFailed as exc:
                batch.append(PublishResult(None, exc.errors))
            except SourceMismatch:
                batch.append(PublishResult(None, [FieldError("source_agency", f"is not {self.agency}, "
                                                                              "the publishing agency")]))
            if len(batch) >= batch_size:
                yield from self._flush(batch)
                batch = []
        yield from self._flush(batch)

    def close(self) -> None:
        self.publisher.close()

    def _flush(self, batch: list[_Prepared | PublishResult]) -> Iterator[PublishResult]:
        self.publisher.publish([p.message for p in batch if isinstance(p, _Prepared)])
        for item in batch:
            if isinstance(item, _Prepared):
                yield PublishResult(item.event_id, warnings=item.warnings)
            else:
                yield item

    def _prepare(self, event: Any) -> _Prepared:
        if isinstance(event, dict) and isinstance(event.get("occurred_at"), datetime):
            event = to_json(event)  # an Avro record: validate it exactly as the JSON form
        check_source(event, self.agency)
        record, encoded = validate_and_encode(event, self.agency_ids, self.clock(), self.clock_skew)
        return _Prepared(record["event_id"], concern_message(record, encoded, self.agency, self.pseudonymiser),
                         advisories(record))


@dataclass(frozen=True)
class _Prepared:
    event_id: str
    message: OutboundMessage
    warnings: list[FieldError]
