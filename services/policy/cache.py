"""A decision cache in front of an engine: keyed by the policy-relevant part of the request and the
revision, so a hit can only return what the same policy said about the same facts. The decision id
still depends on the event id, so a hit is re-stamped for its own event."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace

from eahub.core import ids
from eahub.policy.engine import PolicyEngine
from eahub.policy.facts import cache_key
from eahub.policy.model import Decision, PolicyRequest


class CachingEngine:
    def __init__(self, inner: PolicyEngine, max_entries: int = 10_000) -> None:
        self._inner = inner
        self._max = max_entries
        self._entries: OrderedDict[str, Decision] = OrderedDict()
        self._lock = threading.Lock()
        self._revision = inner.revision
        self.hits = 0
        self.misses = 0

    @property
    def revision(self) -> str:
        return self._inner.revision

    @property
    def inner(self) -> PolicyEngine:
        return self._inner

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        revision = self._inner.revision
        with self._lock:
            if revision != self._revision:  # the inner engine reloaded: nothing cached may be reused
                self._entries.clear()
                self._revision = revision
            keys = [cache_key(revision, r) for r in requests]
            found = [self._entries.get(k) for k in keys]
        missing = [i for i, d in enumerate(found) if d is None]
        fresh = self._inner.decide([requests[i] for i in missing]) if missing else []
        out: list[Decision] = []
        with self._lock:
            for i, d in zip(missing, fresh, strict=True):
                if d.policy_revision == self._revision:
                    self._entries[keys[i]] = d
                    self._entries.move_to_end(keys[i])
                found[i] = d
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            self.misses += len(missing)
            self.hits += len(requests) - len(missing)
        for req, d in zip(requests, found, strict=True):
            assert d is not None
            out.append(d if d.event_id == req.event["event_id"] else _restamp(d, req))
        return out


def _restamp(decision: Decision, request: PolicyRequest) -> Decision:
    event_id = request.event["event_id"]
    override_part = request.override.override_id if request.override else ""
    return replace(decision, event_id=event_id,
                   decision_id=ids.decision_id(event_id, decision.policy_revision, override_part))
