"""A decision cache in front of an engine: keyed by the revision and exactly the facts its policy reads
(`decision_key`), so a hit can only return what the same policy said about facts it cannot tell apart. The decision id
still depends on the event id, so a hit is re-stamped for its own event."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace

from eahub.core import ids
from eahub.policy.decision_key import DecisionKey
from eahub.policy.engine import BundledEngine
from eahub.policy.model import Decision, PolicyRequest


class CachingEngine:
    def __init__(
        self, inner: BundledEngine, max_entries: int = 10_000, refresh: Callable[[], object] | None = None
    ) -> None:
        """`refresh` runs before each batch (a reloading engine's poll): the revision read next is current."""
        self._inner = inner
        self._refresh = refresh
        self._max = max_entries
        self._entries: OrderedDict[str, Decision] = OrderedDict()
        self._lock = threading.Lock()
        self._revision = inner.bundle.revision
        self._key = DecisionKey.of(inner.bundle)
        self.hits = 0
        self.misses = 0

    @property
    def revision(self) -> str:
        return self._inner.revision

    @property
    def inner(self) -> BundledEngine:
        return self._inner

    @property
    def hit_ratio(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        if self._refresh is not None:
            self._refresh()
        bundle = self._inner.bundle
        with self._lock:
            if bundle.revision != self._revision:  # the inner engine reloaded: nothing cached may be reused
                self._entries.clear()
                self._revision = bundle.revision
                self._key = DecisionKey.of(bundle)
            keys = [self._key.key(self._revision, r) for r in requests]
            found = [self._entries.get(k) for k in keys]
        first: dict[str, int] = {}  # one evaluation per distinct key, even within a batch
        for i, d in enumerate(found):
            if d is None:
                first.setdefault(keys[i], i)
        missing = list(first.values())
        fresh = self._inner.decide([requests[i] for i in missing]) if missing else []
        out: list[Decision] = []
        with self._lock:
            decided = dict(zip((keys[i] for i in missing), fresh, strict=True))
            for key, d in decided.items():
                if d.policy_revision == self._revision:
                    self._entries[key] = d
                    self._entries.move_to_end(key)
            found = [d if d is not None else decided[k] for d, k in zip(found, keys, strict=True)]
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
    return replace(
        decision,
        event_id=event_id,
        decision_id=ids.decision_id(event_id, decision.policy_revision, override_part),
    )
