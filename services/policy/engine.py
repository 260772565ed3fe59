"""The policy engine port, and what every adapter shares: turning the Rego decision document into a
`Decision` (with its deterministic id) for each request of a batch."""

from __future__ import annotations

from typing import Any, Protocol

from eahub.core import ids
from eahub.policy.bundle import PolicyBundle
from eahub.policy.model import Decision, PolicyRequest, PolicyUnavailable, RecipientDecision


class PolicyEngine(Protocol):
    """Decides a batch of events under one policy revision; raises PolicyUnavailable when it cannot."""

    @property
    def revision(self) -> str: ...

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]: ...


class BundledEngine(PolicyEngine, Protocol):
    """An engine that also tells which bundle it decides under (what the decision cache keys by)."""

    @property
    def bundle(self) -> PolicyBundle: ...


def to_decision(request: PolicyRequest, revision: str, document: Any) -> Decision:
    """Build a Decision from the engine's decision object; a malformed document is PolicyUnavailable
    (fail closed: nothing is shared on an answer that cannot be read)."""
    try:
        recipients = tuple(
            RecipientDecision(
                agency=r["agency"],
                shared=bool(r["shared"]),
                isa_id=r["isa_id"],
                isa_version=r["isa_version"],
                lawful_basis=r["lawful_basis"],
                purpose=r["purpose"],
                fields_shared=tuple(r["fields_shared"]),
                fields_withheld=tuple(r["fields_withheld"]),
                reasons=tuple(r["reasons"]),
                override=bool(r["override"]),
            )
            for r in document["recipients"]
        )
    except (KeyError, TypeError) as exc:
        raise PolicyUnavailable(
            f"policy engine returned no readable decision ({type(exc).__name__}: {exc})"
        ) from exc
    event_id = request.event["event_id"]
    override_part = request.override.override_id if request.override else ""
    return Decision(
        decision_id=ids.decision_id(event_id, revision, override_part),
        policy_revision=revision,
        event_id=event_id,
        recipients=recipients,
    )
