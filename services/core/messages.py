"""The publisher port: what every service uses to put messages on topics."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class OutboundMessage:
    topic: str
    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class DeliveryFailed(RuntimeError):
    """The broker did not acknowledge every message; nothing may be assumed delivered."""


class Publisher(Protocol):
    def publish(self, messages: list[OutboundMessage]) -> None:
        """Return only once the broker acknowledged every message; raise DeliveryFailed otherwise."""

    def close(self) -> None: ...


class InMemoryPublisher:
    """In-memory adapter of the publisher port, for unit tests of handlers."""

    def __init__(self) -> None:
        self.sent: list[OutboundMessage] = []
        self.fail_next = False

    def publish(self, messages: list[OutboundMessage]) -> None:
        if self.fail_next:
            self.fail_next = False
            raise DeliveryFailed("simulated broker refusal")
        self.sent.extend(messages)

    def on_topic(self, topic: str) -> list[OutboundMessage]:
        return [m for m in self.sent if m.topic == topic]

    def close(self) -> None:
        pass
