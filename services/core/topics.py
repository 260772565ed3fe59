"""Topic names (DESIGN.md §3) and their explicit creation."""

from __future__ import annotations

from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from eahub.core.settings import HubSettings

AUDIT = "eahub.audit"
AUDIT_CHECKPOINTS = "eahub.audit.checkpoints"
BOARD_ACTIVITY = "eahub.board-activity"
DEADLETTER = "eahub.deadletter"
ERASURE = "eahub.erasure"
INBOUND_PREFIX = "eahub.inbound."
BOARD_PREFIX = "eahub.board."
INBOUND_PATTERN = r"^eahub\.inbound\..+"


def inbound(agency: str) -> str:
    return INBOUND_PREFIX + agency


def board(agency: str) -> str:
    return BOARD_PREFIX + agency


def agency_of_inbound(topic: str) -> str | None:
    return topic.removeprefix(INBOUND_PREFIX) if topic.startswith(INBOUND_PREFIX) else None


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int


def all_topics(settings: HubSettings, agencies: list[str]) -> list[TopicSpec]:
    specs = [TopicSpec(inbound(a), settings.inbound_partitions) for a in agencies]
    specs += [TopicSpec(board(a), settings.board_partitions) for a in agencies]
    specs += [
        TopicSpec(AUDIT, settings.audit_partitions),
        TopicSpec(AUDIT_CHECKPOINTS, 1),
        TopicSpec(BOARD_ACTIVITY, settings.board_partitions),
        TopicSpec(DEADLETTER, 1),
        TopicSpec(ERASURE, 1),
    ]
    return specs


def create_topics(settings: HubSettings, agencies: list[str], timeout_s: float = 15.0) -> dict[str, str]:
    """Create every hub topic; existing ones are left as they are. Returns topic -> 'created' | 'exists'."""
    admin = AdminClient(dict[str, str | int | float | bool](settings.kafka_config()))
    specs = all_topics(settings, agencies)
    existing = set(admin.list_topics(timeout=timeout_s).topics)
    result = {s.name: "exists" for s in specs if s.name in existing}
    todo = [NewTopic(s.name, num_partitions=s.partitions, replication_factor=settings.replication_factor)
            for s in specs if s.name not in existing]
    if todo:
        for name, future in admin.create_topics(todo, operation_timeout=timeout_s).items():
            try:
                future.result(timeout=timeout_s)
                result[name] = "created"
            except KafkaException as exc:
                if exc.args[0].code() != exc.args[0].TOPIC_ALREADY_EXISTS:
                    raise
                result[name] = "exists"
    return result
