"""Reading one inbound message: decode, check the schema, check the publisher is who it claims to be.
Anything wrong is a permanent failure, described without any value from the message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confluent_kafka import Message

from eahub.core import avro_codec, risk_factors, schemas, topics


@dataclass(frozen=True)
class Rejected:
    kind: str  # DeadLetter kind
    error: str
    # Every refused message is audited as well as dead-lettered; for a readable event (a spoof, an uncoded risk
    # factor) these are its non-personal facts (claimed source, event id, category).
    audited_facts: dict[str, str] | None = None


# A concern event is a few kilobytes (the HTTP API accepts 64 KiB of JSON); anything far larger is refused
# before decoding, so that no routed case can outgrow the broker's message limit.
MAX_EVENT_BYTES = 256 * 1024


def read_inbound(msg: Message) -> dict[str, Any] | Rejected:
    topic = msg.topic() or ""
    agency = topics.agency_of_inbound(topic)
    if agency is None:
        return Rejected("UNROUTABLE", f"topic {topic} is not an inbound topic")
    size = len(msg.value() or b"")
    if size > MAX_EVENT_BYTES:
        return Rejected("UNROUTABLE", f"message of {size} bytes is over the {MAX_EVENT_BYTES}-byte limit for an event")
    try:
        name, record = avro_codec.decode(msg.value())
    except avro_codec.UndecodableMessage as exc:
        return Rejected("UNDECODABLE", str(exc))
    if name != schemas.CONCERN_EVENT:
        return Rejected("SCHEMA_INVALID", f"inbound topics carry {schemas.CONCERN_EVENT}, got {name}")
    facts = {"claimed_source_agency": record["source_agency"], "event_id": record["event_id"],
             "category": record["category"]}
    if record["source_agency"] != agency:
        return Rejected("SOURCE_MISMATCH",
                        f"source_agency does not match the publishing agency of topic {topic}", facts)
    codes = record.get("risk_factors") or []
    if codes and risk_factors.unknown_codes(codes):  # the positions, never the text: it may be free text about a person
        unknown = [i for i, code in enumerate(codes) if risk_factors.unknown_codes([code])]
        where = ", ".join(f"risk_factors[{i}]" for i in unknown)
        return Rejected("SCHEMA_INVALID", f"unknown risk-factor code at {where}: not in the controlled "
                        f"vocabulary ({risk_factors.FILE})", facts)
    return record
