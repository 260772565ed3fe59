"""OPA's own Rego evaluator (OPA 1.20, Go) embedded in process through `opa-golib-python-bindings`.

The same bundle (policies and data) as the regorus engine, decided through `data.eahub.sharing.batch`;
selected with EAHUB_POLICY_ENGINE=opa-embedded. It proves that the decisions are OPA's semantics, not
only regorus's: the conformance table, the scenario table and the property test run on both."""

from __future__ import annotations

from typing import Any

from eahub.policy.bundle import BATCH_ENTRYPOINT, PolicyBundle
from eahub.policy.engine import to_decision
from eahub.policy.facts import policy_input
from eahub.policy.model import Decision, PolicyRequest, PolicyUnavailable

DOCUMENT = BATCH_ENTRYPOINT.removeprefix("data.")


def _opa_engine() -> Any:
    try:
        from opa_bindings import OpaEngine
    except ImportError as exc:  # installed with --ignore-requires-python (see README)
        raise PolicyUnavailable(
            "EAHUB_POLICY_ENGINE=opa-embedded needs opa-golib-python-bindings==0.4.4 "
            "(pip install --ignore-requires-python opa-golib-python-bindings==0.4.4)"
        ) from exc
    return OpaEngine()


class OpaEmbeddedEngine:
    def __init__(self, bundle: PolicyBundle, with_tests: bool = False) -> None:
        self._bundle = bundle
        self._engine = _opa_engine()
        try:
            for name, text in bundle.modules.items():
                self._engine.add_policy(name, text)
            if with_tests:
                for name, text in bundle.tests.items():
                    self._engine.add_policy(name, text)
            self._engine.add_data(bundle.data)
        except Exception as exc:  # opa_bindings.OpaError carries OPA's compile message
            raise PolicyUnavailable(f"OPA cannot load the policy bundle: {exc}") from exc

    @property
    def revision(self) -> str:
        return self._bundle.revision

    @property
    def bundle(self) -> PolicyBundle:
        return self._bundle

    def evaluate(self, path: str, input_: Any = None) -> Any:
        """The document at data.<path> (for tests and the test runner); OpaError when undefined."""
        return self._engine.eval_document(path, input_)

    def decide(self, requests: list[PolicyRequest]) -> list[Decision]:
        if not requests:
            return []
        try:
            documents = self._engine.eval_document(DOCUMENT, {"requests": [policy_input(r) for r in requests]})
        except Exception as exc:  # OpaError (eval, undefined) from the Go evaluator
            raise PolicyUnavailable(f"OPA evaluation failed: {exc}") from exc
        if not isinstance(documents, list) or len(documents) != len(requests):
            raise PolicyUnavailable("OPA returned no decision for the batch")
        return [to_decision(req, self.revision, doc) for req, doc in zip(requests, documents, strict=True)]

    def close(self) -> None:
        self._engine.close()
