"""The audit entry of an inbound message the router refused and dead-lettered — a spoof (an event on another
agency's inbound topic), an uncoded risk factor, an undecodable or schema-invalid message, an event it could not
decide: an ACTION `inbound-refused`, beside its dead letter, so that `eahub audit query --kind action` and the IG
console show every such attempt and every poison message. No personal data: who (the agency whose topic carried
it, and the source it claimed when it could be read), what (event id and category when known, where it was read)
and why refused."""

from __future__ import annotations

from datetime import datetime

from confluent_kafka import Message

from eahub.core import topics
from eahub.core.audit_entries import audit_entry, audit_message
from eahub.core.messages import OutboundMessage
from eahub.router.inbound import Rejected
from eahub.router.outputs import ROUTER_SOURCE

ACTION = "inbound-refused"


def refused_inbound_entry(msg: Message, rejected: Rejected, now: datetime) -> OutboundMessage:
    facts = rejected.audited_facts or {}
    topic = msg.topic() or ""
    where = {"inbound_topic": topic, "inbound_partition": str(msg.partition()), "inbound_offset": str(msg.offset())}
    entry = audit_entry(
        "ACTION", id_facts=(ACTION, *where.values()), actor="router", occurred_at=now,
        event_id=facts.get("event_id"), source_agency=topics.agency_of_inbound(topic), category=facts.get("category"),
        reasons=[f"inbound publish refused ({rejected.kind}): {rejected.error}; nothing was shared"],
        details={"action": ACTION, "dead_letter_kind": rejected.kind,
                 "claimed_source_agency": facts.get("claimed_source_agency", ""), **where},
    )
    return audit_message(entry, ROUTER_SOURCE, key=ACTION)
