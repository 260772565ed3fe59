"""A hub whose start fails part-way stops what had already started: the router's thread (its consumer subscribed
first, so that its group join overlaps the rest of the start) and the embedded broker. The failure is injected by
replacing the audit service's builder (fault injection: no real part fails on demand at that point)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest

from eahub.core.broker import free_port
from eahub.core.settings import HubSettings
from eahub.hub import hub as hub_module

pytestmark = pytest.mark.integration


class Injected(RuntimeError):
    pass


def test_a_start_that_fails_after_the_router_started_stops_it_and_the_broker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port())
    router_started = threading.Event()
    real_build_router = hub_module.build_router

    def build_router(s: HubSettings, **kwargs):  # type: ignore[no-untyped-def]
        router_started.set()
        return real_build_router(s, **kwargs)

    def build_audit_service(s: HubSettings) -> None:
        assert router_started.wait(30), "the router had not started before the audit service was built"
        raise Injected("the ledger is unavailable")

    monkeypatch.setattr(hub_module, "build_router", build_router)
    monkeypatch.setattr("eahub.audit.bootstrap.build_audit_service", build_audit_service)  # imported by start_hub
    with pytest.raises(Injected):
        hub_module.start_hub(settings)
    deadline = time.monotonic() + 15
    while any(t.name == "router" and t.is_alive() for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [t.name for t in threading.enumerate() if t.name == "router" and t.is_alive()]
    with socket.socket() as s:  # the broker's port is free again
        assert s.connect_ex(("127.0.0.1", settings.broker_port)) != 0
