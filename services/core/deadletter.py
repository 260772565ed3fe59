"""Dead letters: a message the hub could not process, with its original bytes and headers unchanged,
wrapped in a DeadLetter record and carrying the same error facts as Kafka headers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from confluent_kafka import Message

from eahub.core import avro_codec, ids, schemas, topics
from eahub.core.messages import OutboundMessage


def _header(header: Any) -> tuple[str, bytes]:
    key, value = header
    return str(key), value if isinstance(value, bytes) else str(value or "").encode()


# A dead letter must itself fit on the dead-letter topic (brokers default to 1 MB messages): a larger
# original is referenced by topic, partition and offset instead of copied.
MAX_COPIED_BYTES = 512 * 1024


def dead_letter(msg: Message, kind: str, error: str, component: str) -> OutboundMessage:
    """kind: UNDECODABLE | SCHEMA_INVALID | SOURCE_MISMATCH | UNROUTABLE | POLICY_UNAVAILABLE.
    `error` must name what is wrong (a field, a rule) and never carry a value from the message."""
    original_headers = [_header(h) for h in (msg.headers() or [])]
    value = msg.value()
    if value is not None and len(value) > MAX_COPIED_BYTES:
        error += f" (original of {len(value)} bytes not copied: read it at its topic, partition and offset)"
        value = None
    dl_id = ids.derive("deadletter", msg.topic() or "", str(msg.partition()), str(msg.offset()), kind)
    record = {
        "dead_letter_id": dl_id,
        "error_kind": kind,
        "error": error,
        "original_topic": msg.topic() or "",
        "original_partition": msg.partition() or 0,
        "original_offset": msg.offset() or 0,
        "original_key": msg.key(),
        "original_value": value,
        "original_headers": dict(original_headers),
        "failed_at": datetime.now(UTC),
        "component": component,
    }
    headers = [
        *original_headers,
        ("eahub_error_kind", kind.encode()),
        ("eahub_error", error.encode()),
        ("eahub_original_topic", (msg.topic() or "").encode()),
        ("eahub_original_partition", str(msg.partition()).encode()),
        ("eahub_original_offset", str(msg.offset()).encode()),
        ("eahub_component", component.encode()),
    ]
    return OutboundMessage(topics.DEADLETTER, msg.key(), avro_codec.encode(schemas.DEAD_LETTER, record), headers)
