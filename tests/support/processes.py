"""The hub's services as separate OS processes (`python -m eahub <command>`), as an operator runs them: for
the tests that kill, stop and restart them (tests/chaos, tests/integration/test_services_as_processes.py) and
for bench/chaos.py. Each process writes its stdout and stderr to files of its own under `logs`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from eahub.core.broker import free_port


def hub_env(data_dir: Path, broker_port: int, http_port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAHUB_") or k.startswith("EAHUB_TEST_")}
    env.update({"PYTHONFAULTHANDLER": "1",  # a SIGABRT makes a stuck service print every thread's stack (`stop`)
                "EAHUB_DATA_DIR": str(data_dir), "EAHUB_BROKER_PORT": str(broker_port),
                "EAHUB_HTTP_PORT": str(http_port), "EAHUB_METRICS_PORT": str(free_port()), "EAHUB_LOG_FORMAT": "json",
                # free ports for the web apps too, so that a test never clashes with a demo running on 8081/8082
                "EAHUB_BOARD_HTTP_PORT": str(free_port()), "EAHUB_CONSOLE_HTTP_PORT": str(free_port()), **extra})
    return env


def run_command(args: list[str], env: dict[str, str], timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "eahub", *args], env=env, capture_output=True, text=True,
                          timeout=timeout_s, check=False)


@dataclass
class Service:
    name: str
    args: list[str]
    env: dict[str, str]
    logs: Path
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0
    exits: list[int] = field(default_factory=list)

    def start(self) -> Service:
        self.logs.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        out = open(self.logs / f"{self.name}.{self.starts}.out", "wb")  # noqa: SIM115 - owned by the process
        err = open(self.logs / f"{self.name}.{self.starts}.err", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen([sys.executable, "-m", "eahub", *self.args], env=self.env, stdout=out,
                                     stderr=err, start_new_session=True)
        out.close()
        err.close()
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no chance to clean up or commit."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.exits.append(self.proc.wait(10))
        self.proc = None

    def stop(self, timeout_s: float = 10.0) -> float:
        """SIGTERM, then wait; returns the seconds it took. If longer, raises TimeoutError with where its threads
        were stuck (SIGABRT: the faulthandler of `hub_env` prints their stacks), after a SIGKILL."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exits.append(self.proc.wait(timeout_s))
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGABRT)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            stacks = [line for _, line in self.lines()[-400:] if not line.startswith("{")]
            raise TimeoutError(f"{self.name} still running {timeout_s}s after SIGTERM; its threads:\n"
                               + "\n".join(stacks[-120:])) from None
        finally:
            self.proc = None
        return time.monotonic() - started

    def lines(self) -> list[tuple[str, str]]:
        """(file name, line) for every line this service has written, over all its runs."""
        out = []
        for path in sorted(self.logs.glob(f"{self.name}.*")):
            out += [(path.name, line) for line in path.read_text(errors="replace").splitlines() if line.strip()]
        return out


def wait_ready(base_url: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base_url}/readyz", timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{base_url} not ready after {timeout_s}s")
