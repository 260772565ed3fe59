"""The services as separate processes, as an operator runs them, with EAHUB_LOG_FORMAT=json: `eahub broker`,
`eahub init`, `eahub topics create`, `eahub router`, `eahub audit serve`, `eahub ingest`. Events go in over
HTTP, the broker is stopped for a while (so librdkafka has things to say) and started again; then every
service is sent SIGTERM and must exit, cleanly, within 10 s. Every line any of them wrote, on stdout or
stderr, is one JSON object (uvicorn's and librdkafka's included)."""

from __future__ import annotations

import json
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from eahub.audit.bootstrap import open_ledger
from eahub.audit.store import EntryFilter
from eahub.core.broker import free_port, port_open
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from eahub.ingest.examples import example_event
from eahub.ingest.tokens import TokenStore
from tests.support.processes import Service, hub_env, run_command, wait_ready

pytestmark = pytest.mark.integration


def test_services_log_only_json_lines_and_stop_within_10s_of_sigterm(tmp_path: Path) -> None:
    broker_port, http_port = free_port(), free_port()
    data = tmp_path / "data"
    env = hub_env(data, broker_port, http_port)
    logs = tmp_path / "logs"
    broker = Service("broker", ["broker"], env, logs).start()
    services = [Service("router", ["router"], env, logs), Service("audit", ["audit", "serve"], env, logs),
                Service("ingest", ["ingest"], env, logs)]
    try:
        deadline = time.monotonic() + 20
        while not port_open("127.0.0.1", broker_port):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        for args in (["init"], ["topics", "create"]):
            done = run_command(args, env)
            assert done.returncode == 0, done.stderr
        settings = HubSettings(data_dir=data, broker_port=broker_port)
        token = TokenStore.in_data_dir(data).issue("lancashire-police", agency_ids(settings.policies_dir))[1]
        for s in services:
            s.start()
        base = f"http://127.0.0.1:{http_port}"
        wait_ready(base)
        auth = {"Authorization": f"Bearer {token}"}
        ids = []
        for _ in range(3):
            event = example_event(datetime.now(UTC), event_id=str(uuid.uuid4()))
            resp = httpx.post(f"{base}/v1/events", json=event, headers=auth, timeout=20)
            assert resp.status_code == 202
            ids.append(resp.json()["event_id"])
        assert httpx.post(f"{base}/v1/events", content=b"[" * 1000, headers={**auth, "Content-Type":
                          "application/json"}, timeout=20).status_code == 400
        ledger = open_ledger(settings)
        deadline = time.monotonic() + 60
        while {e.event_id for e in ledger.find(EntryFilter(kinds=("DECISION",)))} < set(ids):
            assert time.monotonic() < deadline, "the events were not decided and recorded"
            time.sleep(0.5)

        broker.stop()  # librdkafka now logs its connection failures
        time.sleep(4)
        broker.start()
        wait_ready(base)
        for s in services:
            took = s.stop(timeout_s=10)
            # uvicorn re-raises the SIGTERM it handled once it has shut down: -15 is its clean exit
            assert s.exits[-1] in (0, -signal.SIGTERM), f"{s.name} exited with {s.exits[-1]}"
            print(f"{s.name} stopped {took:.1f}s after SIGTERM")
    finally:
        for s in [*services, broker]:
            s.kill()
    lines = [(s.name, f, line) for s in [broker, *services] for f, line in s.lines()]
    not_json = []
    for _, f, line in lines:
        try:
            assert isinstance(json.loads(line), dict)
        except (ValueError, AssertionError):
            not_json.append((f, line[:160]))
    assert not not_json, f"{len(not_json)} line(s) not JSON, e.g. {not_json[:5]}"
    assert any("eahub.librdkafka" in line for _, _, line in lines), "librdkafka's logs came through as JSON"


def _loose(root: Path) -> list[str]:
    """Everything under `root` readable or writable by anyone but its owner."""
    loose = []
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077 or (path.is_dir() and mode != 0o700) or (path.is_file() and mode != 0o600):
            loose.append(f"{path.relative_to(root)} {oct(mode)}")
    return loose


def test_everything_under_the_data_directory_is_owner_only(tmp_path: Path) -> None:
    broker_port, http_port = free_port(), free_port()
    data = tmp_path / "data"
    env = hub_env(data, broker_port, http_port)
    hub = Service("up", ["up"], env, tmp_path / "logs").start()  # the whole hub, embedded broker and SQLite
    try:
        wait_ready(f"http://127.0.0.1:{http_port}")
        for args in (["token", "issue", "--agency", "nwas"], ["audit", "checkpoint"], ["audit", "verify"]):
            done = run_command(args, env)
            assert done.returncode == 0, done.stderr
    finally:
        hub.stop(timeout_s=15)
    names = {p.name for p in data.rglob("*")}
    assert {"ledger.db", "ledger.db-wal", "ledger.db-shm", "broker.log"} & names, sorted(names)
    assert _loose(data) == []
