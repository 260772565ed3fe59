"""Composition root of the policy engine: OPA server when EAHUB_OPA_URL is set, else the embedded
engine EAHUB_POLICY_ENGINE names (`regorus`, the default, or `opa-embedded`, OPA's own Go evaluator);
either way wrapped with hot reload (EAHUB_POLICY_RELOAD_SECONDS) and a decision cache."""

from __future__ import annotations

from eahub.core.settings import HubSettings
from eahub.policy.bundle import PolicyBundle
from eahub.policy.cache import CachingEngine
from eahub.policy.engine import BundledEngine
from eahub.policy.reloading import ReloadingEngine


def build_engine(settings: HubSettings) -> CachingEngine:
    def factory(bundle: PolicyBundle) -> BundledEngine:
        if settings.opa_url:
            from eahub.policy.opa_engine import OpaEngine

            return OpaEngine(settings.opa_url, bundle, timeout_s=settings.opa_timeout_seconds)
        if settings.policy_engine == "opa-embedded":
            from eahub.policy.opa_embedded_engine import OpaEmbeddedEngine

            return OpaEmbeddedEngine(bundle)
        from eahub.policy.regorus_engine import RegorusEngine

        return RegorusEngine(bundle)

    reloading = ReloadingEngine(settings.policies_dir, factory, interval_s=settings.policy_reload_seconds)
    return CachingEngine(reloading, refresh=reloading.poll)
