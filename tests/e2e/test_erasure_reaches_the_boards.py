"""`eahub audit erase` in a running hub reaches the boards: the vault's payloads become unreadable, the boards
delete the subject's sealed content (keeping the non-personal skeleton) and record their own ERASURE, and the
ledger still verifies."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from eahub.board.tables import cases
from eahub.board.web.settings import BoardWebSettings
from eahub.cli import main
from eahub.core.broker import free_port
from eahub.core.event_json import to_json
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.settings import HubSettings
from eahub.hub.hub import RunningHub, start_hub
from tests.e2e.conftest import issue_token, wait_for_trail
from tests.scenarios.cases import CASES

pytestmark = [pytest.mark.e2e, pytest.mark.integration]
SHARED = next(c for c in CASES if c.expected_shared and c.event["source_agency"] == "lancashire-police")


@pytest.fixture
def hub_with_boards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningHub]:
    for name in [n for n in os.environ if n.startswith("EAHUB_") and not n.startswith("EAHUB_TEST_")]:
        monkeypatch.delenv(name)
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port())
    monkeypatch.setenv("EAHUB_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("EAHUB_BROKER_PORT", str(settings.broker_port))
    running = start_hub(settings, board=BoardWebSettings(http_port=free_port()))
    try:
        yield running
    finally:
        running.shutdown()


def _board_rows(hub: RunningHub, subject_ref: str) -> list:
    assert hub.board is not None
    with hub.board.parts.engine.connect() as conn:
        return list(conn.execute(select(cases).where(cases.c.subject_ref == subject_ref)))


def _eventually(check: object, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


def test_an_erasure_reaches_every_board_and_the_ledger_still_verifies(hub_with_boards: RunningHub) -> None:
    hub = hub_with_boards
    settings = hub.settings
    token = issue_token(settings, "lancashire-police")
    resp = httpx.post(f"http://{settings.http_host}:{settings.http_port}/v1/events", json=to_json(SHARED.event),
                      headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202
    subject_ref = Pseudonymiser.from_data_dir(settings.data_dir).subject_ref(SHARED.event)
    wait_for_trail([SHARED.event["event_id"]])
    _eventually(lambda: len(_board_rows(hub, subject_ref)) == len(SHARED.expected_shared))
    assert all(r.sealed_concern is not None for r in _board_rows(hub, subject_ref))

    erased = CliRunner().invoke(main, ["audit", "erase", "--subject", subject_ref, "--actor", "ig-07"])
    assert erased.exit_code == 0, erased.output
    assert "erasure request sent to the boards" in erased.output
    _eventually(lambda: all(r.sealed_concern is None and r.erased_at_ms is not None
                            for r in _board_rows(hub, subject_ref)))
    rows = _board_rows(hub, subject_ref)
    assert {r.category for r in rows} == {SHARED.event["category"]}  # the non-personal skeleton stays

    def erasures() -> list[dict]:
        shown = CliRunner().invoke(main, ["audit", "sar", "--subject", subject_ref, "--json"])
        if shown.exit_code != 0:
            return []
        return [e for e in json.loads(shown.stdout)["entries"] if e["kind"] == "ERASURE"]

    _eventually(lambda: len(erasures()) >= 1 + len(SHARED.expected_shared))
    assert {e["recipient"] for e in erasures() if e["recipient"]} == set(SHARED.expected_shared)  # each board's
    assert {e["actor"] for e in erasures()} == {"ig-07"}  # on whose request
    assert CliRunner().invoke(main, ["audit", "verify"]).exit_code == 0
