"""Deterministic identifiers: a replay of the same event under the same decision yields the same ids,
so every store can dedupe on them (effectively-once over at-least-once delivery)."""

from __future__ import annotations

import hashlib
import uuid

_NAMESPACE = uuid.UUID("6f1c8f0e-3a55-4b59-9d7a-6a1b2f1e0c11")
_NAMESPACE_BYTES = _NAMESPACE.bytes
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}  # hex digit -> with bits 10xx
_sha1 = hashlib.sha1


def derive(*parts: str) -> str:
    """`str(uuid.uuid5(_NAMESPACE, "\\x1f".join(parts)))`, computed without building a UUID object (the router
    derives several ids per event): the hex of SHA-1 over namespace and name, its version digit set to 5 and the
    RFC 4122 variant bits (10) into the high bits of its 17th digit."""
    h = _sha1(_NAMESPACE_BYTES + "\x1f".join(parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


def decision_id(event_id: str, policy_revision: str, override_id: str = "") -> str:
    return derive("decision", event_id, policy_revision, override_id)


def case_id(event_id: str, recipient: str, decision: str) -> str:
    return derive("case", event_id, recipient, decision)


def new_event_id() -> str:
    return str(uuid.uuid4())
