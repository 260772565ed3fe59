"""The audit entry of an inbound publish the router refused (a spoof: an event on another agency's inbound
topic; an event with an uncoded risk factor): an ACTION `inbound-refused`, beside its dead letter, so that
`eahub audit query --kind action` shows every such attempt. No personal data: who (the agency whose topic
carried it, and the source it claimed), what (event id, category, where it was read) and why refused."""

from __future__ import annotations

from datetime import datetime

from confluent_kafka import Message

from eahub.core import topics
from eahub.core.audit_entries import audit_entry, audit_message
from eahub.core.messages import OutboundMessage
from eahub.router.inbound import Rejected
from eahub.router.outputs import ROUTER_SOURCE

ACTION = "inbound-refused"


def refused_inbound_entry(msg: Message, rejected: Rejected, now: datetime) -> OutboundMessage | None:
    if rejected.audited_facts is None:
        return None
    facts = rejected.audited_facts
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
