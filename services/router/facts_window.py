"""The router's in-memory window of its recent decisions (policy facts and outcome per recipient, no personal
value), so that a hot reload can record in its POLICY_CHANGE entry what the new revision would have decided
differently on them (counts only)."""

from __future__ import annotations

import json
from collections import deque
from datetime import date
from typing import Any

from eahub.core.logging import get_logger
from eahub.policy.bundle import PolicyBundle
from eahub.policy.facts import policy_input
from eahub.policy.impact import RecordedDecision, RecordedOutcome, facts_json, replay
from eahub.policy.model import Decision, PolicyRequest

log = get_logger("eahub.router")

WINDOW = 500


def decided_facts(event: dict[str, Any], today: date) -> str:
    """What the policy decides an event on (no personal value), as the canonical JSON that the DECISION entry
    carries and this window keeps: computed once per event."""
    return facts_json(policy_input(PolicyRequest(event=event, today=today)))


class RecentDecisions:
    def __init__(self, size: int = WINDOW) -> None:
        self._items: deque[tuple[str, Decision]] = deque(maxlen=size)  # (decided_facts, decision)

    def __len__(self) -> int:
        return len(self._items)

    def record(self, facts: str, decision: Decision) -> None:
        """`facts`: `decided_facts` of the event; read back only when a new revision is replayed over them."""
        self._items.append((facts, decision))

    def impact_counts(self, engine: object) -> dict[str, str]:
        """Replay the window under the revision now in force, then start a new window for it."""
        bundle = current_bundle(engine)
        items, self._items = list(self._items), deque(maxlen=self._items.maxlen)
        if bundle is None:
            return {"impact_replayed": "0", "impact_note": "engine does not expose its bundle"}
        try:
            return replay([_recorded(facts, decision) for facts, decision in items], bundle).counts()
        except Exception as exc:  # the impact is information only: a failure must not stop routing
            log.error("impact of the new policy revision could not be computed", error=type(exc).__name__)
            return {"impact_replayed": "0", "impact_note": f"not computed ({type(exc).__name__})"}


def current_bundle(engine: object) -> PolicyBundle | None:
    """The bundle in force behind the caching and reloading wrappers, if the engine exposes it."""
    for _ in range(4):
        bundle = getattr(engine, "bundle", None)
        if isinstance(bundle, PolicyBundle):
            return bundle
        engine = getattr(engine, "inner", None) or getattr(engine, "current", None)
        if engine is None:
            return None
    return None


def _recorded(facts: str, decision: Decision) -> RecordedDecision:
    outcomes = tuple(RecordedOutcome(r.agency, r.shared, r.isa_id, r.reasons) for r in decision.recipients)
    return RecordedDecision(decision.event_id, json.loads(facts), outcomes)
