"""The production policy engine: an OPA server over its REST API, through `opa-python-client`.

The engine pushes the bundle's policies and data to the server (`PUT /v1/policies/<file>`,
`PUT /v1/data/hub`), then decides a whole batch per request (`POST /v1/data/eahub/sharing/batch`).
The server is told the revision it holds (`data.hub_revision`); when an answer is missing (an OPA
restart loses pushed policies) the bundle is pushed again once. Any error or timeout is
PolicyUnavailable: the caller shares nothing and retries."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from opa_client import OpaClient

from eahub.policy.bundle import PolicyBundle
from eahub.policy.engine import to_decision
from eahub.policy.facts import policy_input
from eahub.policy.model import Decision, PolicyRequest, PolicyUnavailable

PACKAGE = "eahub.sharing"
RULE = "batch"


class OpaEngine:
    def __init__(self, url: str, bundle: PolicyBundle, timeout_s: float = 2.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"EAHUB_OPA_URL must be http(s)://host[:port], got {url!r}")
        self._bundle = bundle
        self._client = OpaClient(
            host=parts.hostname,
            port=parts.port or 8181,
            ssl=parts.scheme == "https",
            timeout=timeout_s,
            retries=0,
        )
        self._lock = threading.Lock()
        self._pushed = False

    @property
    def revision(self) -> str:
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    def push(self) -> None:
        """Load this bundle's policies and data into the server."""
        try:
            for name, text in self._bundle.modules.items():
                self._client.update_policy_from_string(text, name, rego_compat=False)
            self._client.update_or_create_data(self._bundle.data["hub"], "hub")
            self._client.update_or_create_data({"revision": self._bundle.revision}, "hub_revision")
        except Exception as exc:  # requests errors, timeouts and the client's own error types
            raise PolicyUnavailable(
                f"cannot load the policy bundle into OPA: {type(exc).__name__}: {exc}"
            ) from exc
        self._pushed = True

    def decide(self, requests_: list[PolicyRequest]) -> list[Decision]:
        if not requests_:
            return []
        body = {"requests": [policy_input(r) for r in requests_]}
        with self._lock:
            if not self._pushed:
                self.push()
            documents = self._query(body)
            if documents is None:  # the server lost the bundle (restart): push it again, once
                self.push()
                documents = self._query(body)
        if not isinstance(documents, list) or len(documents) != len(requests_):
            raise PolicyUnavailable("OPA returned no decision for the batch")
        return [to_decision(r, self.revision, d) for r, d in zip(requests_, documents, strict=True)]

    def _query(self, body: dict[str, Any]) -> Any:
        try:
            served = self._client.query_rule(input_data={}, package_path="hub_revision", rule_name="revision")
            if served.get("result") != self.revision:
                return None
            return self._client.query_rule(input_data=body, package_path=PACKAGE, rule_name=RULE).get(
                "result"
            )
        except Exception as exc:  # requests errors, timeouts, HTTP errors from raise_for_status
            raise PolicyUnavailable(f"OPA query failed: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        self._client.close_connection()
