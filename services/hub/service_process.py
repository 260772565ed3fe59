"""The hub's services as processes of their own under `eahub up --apart` (by default ingest only; `--one-process`
keeps every service in threads): ingest (`eahub ingest`, with break-glass), the router (`eahub router`) and the
audit service (`eahub audit serve`) beside the hub's process, so that they do not share one GIL (regorus holds it
for a whole evaluation). Each child runs with exactly the hub's settings and is run as one of
the hub's services: it is stopped when the hub stops (SIGTERM), and a child that exits on its own stops the hub,
loudly, naming it. A child has a session of its own, so that a Ctrl-C reaches the hub only (a Ctrl-C in the child's
start would end it with a traceback or "Aborted!"), and it dies with the thread that started it.

The router and the audit service serve their metrics on a private loopback port, which the hub's /metrics gathers;
that port answering is also how the hub knows they run (ingest's: its HTTP port)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from eahub.core.broker import die_with_parent, free_port, port_open
from eahub.core.settings import HubSettings

LOOPBACK = "127.0.0.1"


@dataclass
class ServiceProcess:
    name: str
    args: list[str]  # of `python -m eahub`
    settings: HubSettings
    ready_at: tuple[str, int]  # (host, port) that answers once the service runs
    metrics_port: int | None = None  # its /metrics on the loopback, gathered by the hub's
    child: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return None if self.child is None else self.child.pid

    def run(self, stop: threading.Event) -> None:
        env = {**os.environ, **self.settings.as_environment()}  # the child runs with exactly the hub's settings
        # Started from the service's own thread, which lives as long as the child should (`die_with_parent`).
        child = self.child = subprocess.Popen([sys.executable, "-m", "eahub", *self.args], env=env,
                                              start_new_session=True, preexec_fn=die_with_parent)
        try:
            while child.poll() is None and not stop.wait(0.2):
                pass
            if not stop.wait(1.0):  # stopped together with the hub (systemd SIGTERMs every process) is no failure
                raise RuntimeError(f"the {self.name} process {_ended(child.returncode)}")
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

    def ready(self) -> bool:
        """Whether the child runs and its service answers."""
        return self.child is not None and self.child.poll() is None and port_open(*self.ready_at)

    def metrics(self) -> str | None:
        """The child's metrics (Prometheus text), or None when it has none or does not answer."""
        if self.metrics_port is None:
            return None
        try:
            with urllib.request.urlopen(f"http://{LOOPBACK}:{self.metrics_port}/metrics", timeout=2.0) as resp:
                return resp.read().decode()
        except OSError:  # URLError, a refused connection, a timeout: not (or no longer) answering
            return None


def _ended(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with {returncode}"


def ingest_process(settings: HubSettings) -> ServiceProcess:
    host = LOOPBACK if settings.http_host in ("0.0.0.0", "") else settings.http_host
    return ServiceProcess("ingest", ["ingest"], settings, (host, settings.http_port))


def router_process(settings: HubSettings) -> ServiceProcess:
    port = free_port()
    return ServiceProcess("router", ["router", "--metrics-port", str(port)], settings, (LOOPBACK, port), port)


def audit_process(settings: HubSettings) -> ServiceProcess:
    port = free_port()
    return ServiceProcess("audit", ["audit", "serve", "--metrics-port", str(port)], settings, (LOOPBACK, port), port)


# The services that can run apart, in their start order: the router first, so that its consumer group join goes on
# while the rest starts.
APART: dict[str, Callable[[HubSettings], ServiceProcess]] = {
    "router": router_process, "audit": audit_process, "ingest": ingest_process}


def wait_running(processes: list[ServiceProcess], stop: threading.Event, timeout_s: float = 60.0) -> bool:
    """Wait until every process's service answers; False if `stop` is set first (a child that exited sets it).
    Raises TimeoutError naming those that did not answer in time."""
    deadline = time.monotonic() + timeout_s
    pending = list(processes)
    while True:
        pending = [p for p in pending if not p.ready()]
        if not pending:
            return True
        if stop.wait(0.05):
            return False
        if time.monotonic() > deadline:
            names = ", ".join(p.name for p in pending)
            raise TimeoutError(f"not running {timeout_s:g} s after the start: the {names} process(es)")
