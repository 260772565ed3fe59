"""Erasure requests (`eahub.erasure`, schema eahub.ErasureRequest): how a subject's erasure reaches the
services that hold their personal data (the board crypto-shreds it). Only the pseudonym travels."""

from __future__ import annotations

from datetime import UTC, datetime

from eahub.core import avro_codec, cloudevents, schemas, topics
from eahub.core.messages import OutboundMessage

REASONS = ("SUBJECT_REQUEST", "RETENTION", "COURT_ORDER", "OTHER")


def erasure_message(subject_ref: str, request_id: str, requested_by: str, reason: str = "SUBJECT_REQUEST",
                    requested_at: datetime | None = None) -> OutboundMessage:
    if reason not in REASONS:
        raise ValueError("reason must be one of " + ", ".join(REASONS))
    at = requested_at or datetime.now(UTC)
    record = {"request_id": request_id, "subject_ref": subject_ref, "requested_at": at,
              "requested_by": requested_by, "reason": reason}
    return OutboundMessage(
        topics.ERASURE, subject_ref.encode(), avro_codec.encode(schemas.ERASURE_REQUEST, record),
        cloudevents.headers(ce_id=request_id, source="eahub/audit", ce_type="eahub.erasure.request.v1",
                            subject=subject_ref, time=at))
