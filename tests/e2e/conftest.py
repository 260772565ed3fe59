"""A running hub for end-to-end tests: embedded broker, ingest HTTP, router and audit, on free ports."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core.broker import free_port
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.hub.hub import RunningHub, start_hub
from eahub.ingest.tokens import TokenStore


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningHub]:
    for name in [n for n in os.environ if n.startswith("EAHUB_") and not n.startswith("EAHUB_TEST_")]:
        monkeypatch.delenv(name)
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port())
    monkeypatch.setenv("EAHUB_DATA_DIR", str(settings.data_dir))  # for the CLI commands the tests invoke
    monkeypatch.setenv("EAHUB_BROKER_PORT", str(settings.broker_port))
    running = start_hub(settings)
    deadline = time.monotonic() + 10
    while not running.http.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield running
    finally:
        running.shutdown()


def issue_token(settings: HubSettings, agency: str) -> str:
    _, token = TokenStore.in_data_dir(settings.data_dir).issue(agency, agency_ids(settings.policies_dir))
    return token


def wait_for_trail(event_ids: list[str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        shown = [CliRunner().invoke(main, ["audit", "show", "--event", e, "--json"]) for e in event_ids]
        if all(r.exit_code == 0 and '"DECISION"' in r.output for r in shown):
            return
        time.sleep(0.3)
    raise AssertionError("the audit trail did not record every decision in time")
