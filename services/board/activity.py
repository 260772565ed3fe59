"""BoardActivity records (schemas/eahub.BoardActivity.avsc) and the port that puts them on the audit
trail. `publish` returns only once the broker acknowledged every record, else raises AuditUnavailable:
the board shows no content and confirms no change without that acknowledgement (fail closed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Protocol

from eahub.board.model import AuditUnavailable
from eahub.core import avro_codec, cloudevents, ids, schemas, topics
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher

CONSULTATION = "CONSULTATION"
ACTION = "ACTION"
DISCLOSURE = "DISCLOSURE"
ERASURE = "ERASURE"
CE_TYPE = "eahub.board.activity.v1"


def actor_id(agency: str, user_id: str) -> str:
    return f"board:{agency}:{user_id}"


def record(kind: str, *, occurred_at: datetime, actor: str, agency: str, id_parts: tuple[str, ...],
           case: dict[str, Any] | None = None, role: str | None = None, session_ref: str | None = None,
           part: str | None = None, purpose: str | None = None, relationship: str | None = None,
           outcome: str | None = None, action: str | None = None, from_state: str | None = None,
           to_state: str | None = None, details: dict[str, str] | None = None) -> dict[str, Any]:
    """One BoardActivity record. `case` is a board_cases row mapping (only its non-personal ids are used);
    `id_parts` make the deterministic activity id (the same view or change replayed gets the same id)."""
    case = case or {}
    return {
        "activity_id": ids.derive("board-activity", kind, *id_parts),
        "kind": kind,
        "occurred_at": occurred_at,
        "actor": actor,
        "agency": agency,
        "role": role,
        "session_ref": session_ref,
        "case_id": case.get("case_id"),
        "event_id": case.get("event_id"),
        "subject_ref": case.get("subject_ref"),
        "isa_id": case.get("isa_id"),
        "source_agency": case.get("source_agency"),
        "part": part,
        "purpose": purpose,
        "relationship": relationship,
        "outcome": outcome,
        "action": action,
        "from_state": from_state,
        "to_state": to_state,
        "details": {k: str(v) for k, v in (details or {}).items()},
    }


def to_message(rec: dict[str, Any]) -> OutboundMessage:
    key = (rec.get("subject_ref") or rec.get("case_id") or rec["agency"]).encode()
    return OutboundMessage(
        topics.BOARD_ACTIVITY,
        key,
        avro_codec.encode(schemas.BOARD_ACTIVITY, rec),
        cloudevents.headers(ce_id=rec["activity_id"], source=f"eahub/board/{rec['agency']}", ce_type=CE_TYPE,
                            subject=rec.get("subject_ref"), time=rec["occurred_at"]),
    )


def to_json(rec: dict[str, Any]) -> str:
    """Outbox form: times as epoch milliseconds."""
    doc = dict(rec)
    doc["occurred_at"] = int(rec["occurred_at"].timestamp() * 1000)
    return json.dumps(doc, sort_keys=True)


def from_json(text: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(text)
    doc["occurred_at"] = datetime.fromtimestamp(doc["occurred_at"] / 1000, UTC)
    return doc


class ActivityPublisher(Protocol):
    def publish(self, records: list[dict[str, Any]]) -> None:
        """Return only once the broker acknowledged every record; raise AuditUnavailable otherwise."""


class KafkaActivityPublisher:
    """BoardActivity records onto `eahub.board-activity`, keyed by subject pseudonym, CloudEvents headers."""

    def __init__(self, publisher: Publisher) -> None:
        self._publisher = publisher

    def publish(self, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        try:
            self._publisher.publish([to_message(r) for r in records])
        except DeliveryFailed as exc:
            raise AuditUnavailable("the audit trail is unavailable: try again shortly") from exc

    def close(self) -> None:
        self._publisher.close()


class InMemoryActivityPublisher:
    """In-memory adapter for unit tests; `down = True` simulates a broker that does not acknowledge."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.down = False

    def publish(self, records: list[dict[str, Any]]) -> None:
        if self.down:
            raise AuditUnavailable("the audit trail is unavailable: try again shortly")
        for r in records:
            avro_codec.encode(schemas.BOARD_ACTIVITY, r)  # the record must fit the schema, as on Kafka
        self.records.extend(records)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.records if r["kind"] == kind]
