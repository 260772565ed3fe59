"""`eahub up` runs ingest in a process of its own by default (bench/bench_ingest.py --modes up has the figures): a 202
still comes only after the broker's ack, the event is decided and recorded by the router and audit of the parent
process, whose /metrics are served on a port of their own, and one Ctrl-C (SIGINT to the foreground process group)
stops parent and child."""

from __future__ import annotations

import os
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
from tests.support.processes import Service, hub_env, wait_ready

pytestmark = pytest.mark.integration


def test_up_serves_ingest_from_its_own_process_and_one_ctrl_c_stops_everything(tmp_path: Path) -> None:
    broker_port, http_port = free_port(), free_port()
    data = tmp_path / "data"
    env = hub_env(data, broker_port, http_port)
    hub = Service("up", ["up"], env, tmp_path / "logs").start()
    assert hub.proc is not None
    try:
        base = f"http://127.0.0.1:{http_port}"
        wait_ready(base)
        settings = HubSettings(data_dir=data, broker_port=broker_port)
        token = TokenStore.in_data_dir(data).issue("lancashire-police", agency_ids(settings.policies_dir))[1]
        event = example_event(datetime.now(UTC), event_id=str(uuid.uuid4()))
        resp = httpx.post(f"{base}/v1/events", json=event, headers={"Authorization": f"Bearer {token}"}, timeout=20)
        assert resp.status_code == 202, resp.text
        ledger = open_ledger(settings)
        deadline = time.monotonic() + 60
        while event["event_id"] not in {e.event_id for e in ledger.find(EntryFilter(kinds=("DECISION",)))}:
            assert time.monotonic() < deadline, "the event was not decided and recorded"
            time.sleep(0.5)
        ledger.engine.dispose()
        metrics = httpx.get(f"http://127.0.0.1:{env['EAHUB_METRICS_PORT']}/metrics", timeout=10)
        assert metrics.status_code == 200  # the hub's own metrics, now that the ingest port is another process's
        assert "eahub_router_events_total" in metrics.text

        os.killpg(hub.proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        assert hub.proc.wait(30) in (0, 1)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", http_port):  # the ingest process has gone too
            assert time.monotonic() < deadline, "the ingest process outlived the hub"
            time.sleep(0.2)
    finally:
        if hub.proc is not None and hub.proc.poll() is None:
            os.killpg(hub.proc.pid, signal.SIGKILL)
        hub.proc = None
