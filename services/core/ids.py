"""Deterministic identifiers: a replay of the same event under the same decision yields the same ids,
so every store can dedupe on them (effectively-once over at-least-once delivery)."""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("6f1c8f0e-3a55-4b59-9d7a-6a1b2f1e0c11")
_NAMESPACE_BYTES = _NAMESPACE.bytes


def derive(*parts: str) -> str:
    """`str(uuid.uuid5(_NAMESPACE, "\\x1f".join(parts)))`, computed without building a UUID object (the router
    derives several ids per event): SHA-1 of namespace and name, version 5 and the RFC 4122 variant set."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def decision_id(event_id: str, policy_revision: str, override_id: str = "") -> str:
    return derive("decision", event_id, policy_revision, override_id)


def case_id(event_id: str, recipient: str, decision: str) -> str:
    return derive("case", event_id, recipient, decision)


def new_event_id() -> str:
    return str(uuid.uuid4())
