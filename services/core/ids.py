"""Deterministic identifiers: a replay of the same event under the same decision yields the same ids,
so every store can dedupe on them (effectively-once over at-least-once delivery)."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c8f0e-3a55-4b59-9d7a-6a1b2f1e0c11")


def derive(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def decision_id(event_id: str, policy_revision: str, override_id: str = "") -> str:
    return derive("decision", event_id, policy_revision, override_id)


def case_id(event_id: str, recipient: str, decision: str) -> str:
    return derive("case", event_id, recipient, decision)


def new_event_id() -> str:
    return str(uuid.uuid4())
