"""The embedded policy engine: Microsoft's Rust Rego engine (`regorus`) in process."""

from __future__ import annotations

import threading

from eahub.policy.bundle import BATCH_ENTRYPOINT, PolicyBundle
from eahub.policy.engine import to_decision
from eahub.policy.facts import policy_input
from eahub.policy.model import Decision, PolicyRequest, PolicyUnavailable


class RegorusEngine:
    def __init__(self, bundle: PolicyBundle) -> None:
        self._bundle = bundle
        self._engine = bundle.engine()
        self._lock = threading.Lock()  # a regorus Engine holds its input: one evaluation at a time

    @property
    def revision(self) -> str:
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        if not requests:
            return []
        try:
            with self._lock:
                self._engine.set_input({"requests": [policy_input(r) for r in requests]})
                documents = self._engine.eval_rule(BATCH_ENTRYPOINT)
        except Exception as exc:  # regorus raises RuntimeError/ValueError with the engine message
            raise PolicyUnavailable(f"regorus evaluation failed: {exc}") from exc
        if not isinstance(documents, list) or len(documents) != len(requests):
            raise PolicyUnavailable("regorus returned no decision for the batch")
        return [to_decision(req, self.revision, doc) for req, doc in zip(requests, documents, strict=True)]
