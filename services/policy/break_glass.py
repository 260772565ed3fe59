"""Break-glass as the services see it: a request, its outcome, why it could not be attempted, and the port
through which the HTTP API (ingest) and the command line ask for one. The hub composes the port once at
start-up (`eahub.hub.break_glass`); the decision itself is the policy's, the outputs the router's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class OverrideError(ValueError):
    """The override cannot be attempted (unknown event, original message gone). The attempt is audited."""


class OverrideForbidden(OverrideError):
    """The requester may not break glass on this event (no break-glass role, or not the event's originator)."""


class OverrideInvalid(OverrideError):
    """The request lacks something mandatory (a justification, a recipient)."""


class OverrideUnavailable(RuntimeError):
    """Transient: the policy engine or the broker cannot answer now; nothing was shared. Retry later."""


@dataclass(frozen=True)
class BreakGlassRequest:
    event_id: str
    recipient: str
    justification: str
    role: str | None  # None: the requester holds no break-glass role (refused, and audited)
    actor: str  # who asks: an id (agency/token id, or a collar number), never a name
    requester_agency: str | None  # the agency asking over HTTP; None: the hub's operator at the command line
    request_id: str  # one per request: each is its own review item and its own audit entry


@dataclass(frozen=True)
class OverrideOutcome:
    granted: bool
    event_id: str
    recipient: str
    decision_id: str
    case_id: str | None
    reasons: tuple[str, ...]


class BreakGlassPort(Protocol):
    def request(self, request: BreakGlassRequest) -> OverrideOutcome:
        """Decide and carry out one break-glass request. Every refusal is audited; raises OverrideForbidden,
        OverrideInvalid or OverrideError when it cannot be attempted, and returns the outcome otherwise."""
