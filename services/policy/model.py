"""The policy decision, as the router and the audit trail see it: one decision per event, one
`RecipientDecision` per candidate recipient (every registered agency except the source), shares and
refusals alike, each with its ISA, lawful basis, purpose, fields shared and withheld, and reasons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


class PolicyUnavailable(Exception):
    """Transient: the engine errored or timed out. Nothing may be shared; the caller retries."""


@dataclass(frozen=True)
class RecipientDecision:
    agency: str
    shared: bool
    isa_id: str | None
    isa_version: str | None
    lawful_basis: str | None
    purpose: str | None
    fields_shared: tuple[str, ...]
    fields_withheld: tuple[str, ...]
    reasons: tuple[str, ...]
    override: bool = False


@dataclass(frozen=True)
class Decision:
    decision_id: str
    policy_revision: str
    event_id: str
    recipients: tuple[RecipientDecision, ...]

    @property
    def shares(self) -> tuple[RecipientDecision, ...]:
        return tuple(r for r in self.recipients if r.shared)

    @property
    def refusals(self) -> tuple[RecipientDecision, ...]:
        return tuple(r for r in self.recipients if not r.shared)

    def for_agency(self, agency: str) -> RecipientDecision:
        for r in self.recipients:
            if r.agency == agency:
                return r
        raise KeyError(agency)


@dataclass(frozen=True)
class Override:
    """A break-glass request: `actor` in `role` asks that `recipient` receive this one event."""

    recipient: str
    role: str
    actor: str
    justification: str
    request_id: str = ""  # one per request: a second override of the same event is a new review item

    @property
    def override_id(self) -> str:
        """The part of the decision id that distinguishes an overridden decision from the plain one."""
        return f"override:{self.recipient}:{self.role}:{self.actor}:{self.request_id}"


@dataclass(frozen=True)
class PolicyRequest:
    event: dict[str, Any]  # a ConcernEvent in Avro record form
    today: date
    override: Override | None = None
