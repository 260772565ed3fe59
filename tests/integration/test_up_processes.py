"""`eahub up` runs ingest in a process of its own by default, and with `--apart ingest,router,audit` the router and
the audit service too (bench/bench_latency.py --shapes and bench/bench_ingest.py --modes up have the figures): a
202 still comes only after the broker's ack, the event is decided and recorded, the router's and the audit service's
metrics are on the hub's /metrics (on a port of its own; gathered from their processes when they run apart), "up" is
printed only once the service processes run, a child that dies stops the hub naming it, and one Ctrl-C (SIGINT to
the foreground process group) stops parent and children."""

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
from tests.support.processes import Service, hub_env, run_command, wait_ready

pytestmark = pytest.mark.integration


def _children(pid: int) -> dict[str, int]:
    """The hub's service processes, by command (`router`, `audit serve`, `ingest`), from /proc."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            args = (entry / "cmdline").read_bytes().decode().split("\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and args[1:3] == ["-m", "eahub"]:
            out[" ".join(a for a in args[3:] if a and not a.startswith("--") and not a.isdigit())] = int(entry.name)
    return out


def _wait_for_line(hub: Service, text: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(text in line for _, line in hub.lines()):
        assert hub.running(), f"the hub exited before printing {text!r}: {hub.lines()[-20:]}"
        assert time.monotonic() < deadline, f"no {text!r} after {timeout_s} s"
        time.sleep(0.05)


@pytest.mark.parametrize(("args", "apart"), [([], {"ingest"}),
                                             (["--apart", "ingest,router,audit"], {"router", "audit serve", "ingest"})])
def test_up_serves_ingest_from_its_own_process_and_one_ctrl_c_stops_everything(tmp_path: Path, args: list[str],
                                                                                apart: set[str]) -> None:
    broker_port, http_port = free_port(), free_port()
    data = tmp_path / "data"
    env = hub_env(data, broker_port, http_port)
    hub = Service("up", ["up", *args], env, tmp_path / "logs").start()
    assert hub.proc is not None
    try:
        base = f"http://127.0.0.1:{http_port}"
        _wait_for_line(hub, "Early Action Hub is up")
        # "up" only once its service processes run: the router's and the audit service's metrics answer at once.
        metrics = httpx.get(f"http://127.0.0.1:{env['EAHUB_METRICS_PORT']}/metrics", timeout=10)
        assert metrics.status_code == 200
        assert "eahub_router_events_total 0.0" in metrics.text
        assert "eahub_audit_entries_appended_total" in metrics.text
        assert httpx.get(f"{base}/readyz", timeout=10).status_code == 200
        children = _children(hub.proc.pid)
        assert set(children) == apart, children
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
        assert metrics.status_code == 200  # the router's and the audit service's, gathered from their processes
        assert "eahub_router_events_total 1.0" in metrics.text
        appended = [line for line in metrics.text.splitlines() if line.startswith("eahub_audit_entries_appended_total")]
        assert appended and float(appended[0].split()[1]) >= 1, appended

        os.killpg(hub.proc.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        assert hub.proc.wait(30) in (0, 1)
        deadline = time.monotonic() + 10
        while port_open("127.0.0.1", http_port):  # the ingest process has gone too
            assert time.monotonic() < deadline, "the ingest process outlived the hub"
            time.sleep(0.2)
        for name, pid in children.items():
            while Path(f"/proc/{pid}").exists():
                assert time.monotonic() < deadline, f"the {name} process outlived the hub"
                time.sleep(0.2)
    finally:
        if hub.proc is not None and hub.proc.poll() is None:
            os.killpg(hub.proc.pid, signal.SIGKILL)
        hub.proc = None


@pytest.mark.parametrize("service", ["router", "audit serve"])
def test_a_service_process_that_dies_stops_the_hub_naming_it(tmp_path: Path, service: str) -> None:
    env = hub_env(tmp_path / "data", free_port(), free_port())
    hub = Service("up", ["up", "--apart", "ingest,router,audit"], env, tmp_path / "logs").start()
    assert hub.proc is not None
    try:
        _wait_for_line(hub, "Early Action Hub is up")
        children = _children(hub.proc.pid)
        os.kill(children[service], signal.SIGKILL)
        assert hub.proc.wait(60) == 1  # stopped, loudly
        name = service.split()[0]
        errors = [line for _, line in hub.lines() if line.startswith("Error:")]
        assert errors == [f"Error: stopped because a service failed: {name}-process (the {name} process was killed "
                          "by SIGKILL) (see the log above)"], errors
        deadline = time.monotonic() + 20
        for other, pid in children.items():  # the other service processes were stopped with it
            while Path(f"/proc/{pid}").exists():
                assert time.monotonic() < deadline, f"the {other} process outlived the hub"
                time.sleep(0.2)
    finally:
        if hub.proc is not None and hub.proc.poll() is None:
            os.killpg(hub.proc.pid, signal.SIGKILL)
        hub.proc = None


def test_up_refuses_an_unknown_service_to_run_apart(tmp_path: Path) -> None:
    env = hub_env(tmp_path / "data", free_port(), free_port())
    done = run_command(["up", "--apart", "ingest,boards"], env)
    assert done.returncode == 2, done.stderr
    assert "boards: one of ingest, router, audit" in done.stderr
