"""EAHUB_POLICY_ENGINE picks the embedded evaluator in the composition root: regorus by default, OPA's
own (Go) evaluator with `opa-embedded`; an unknown name is refused when the settings are read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from eahub.core.paths import POLICIES_DIR
from eahub.core.settings import HubSettings
from eahub.policy.bootstrap import build_engine
from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine
from eahub.policy.regorus_engine import RegorusEngine
from eahub.policy.reloading import ReloadingEngine

pytestmark = pytest.mark.unit


def _current(settings: HubSettings) -> object:
    inner = build_engine(settings).inner
    assert isinstance(inner, ReloadingEngine)
    return inner.current


def test_regorus_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EAHUB_POLICY_ENGINE", raising=False)
    assert isinstance(_current(HubSettings(policies_dir=POLICIES_DIR)), RegorusEngine)


def test_opa_embedded_is_chosen_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_POLICY_ENGINE", "opa-embedded")
    assert isinstance(_current(HubSettings(policies_dir=POLICIES_DIR)), OpaEmbeddedEngine)


def test_an_unknown_engine_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_POLICY_ENGINE", "wasm")
    with pytest.raises(ValidationError, match="policy_engine"):
        HubSettings()
