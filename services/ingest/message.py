"""The Kafka message of an accepted concern event, the same from the HTTP API and the producer client:
key = the subject's pseudonymous reference, value = Avro single-object encoding, CloudEvents headers."""

from __future__ import annotations

from typing import Any

from eahub.core import cloudevents, topics
from eahub.core.messages import OutboundMessage
from eahub.core.pseudonym import Pseudonymiser

CE_TYPE = "uk.gov.eahub.concern.v1"
AGENCY_HEADER = "eahub_agency"


def concern_message(record: dict[str, Any], encoded: bytes, agency: str,
                    pseudonymiser: Pseudonymiser) -> OutboundMessage:
    """`encoded`: the record's single-object encoding from validation (`validate_and_encode`), not re-encoded."""
    subject_ref = pseudonymiser.subject_ref(record)
    headers = cloudevents.headers(
        ce_id=record["event_id"], source=f"/agencies/{agency}", ce_type=CE_TYPE,
        subject=subject_ref, time=record["occurred_at"],
    )
    return OutboundMessage(
        topic=topics.inbound(agency),
        key=subject_ref.encode(),
        value=encoded,
        headers=[*headers, (AGENCY_HEADER, agency.encode())],
    )
