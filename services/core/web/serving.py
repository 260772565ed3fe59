"""Serving a web app of the hub (a board, the IG console) in a service thread: uvicorn until the service's stop
event is set, and waiting until it accepts connections."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI

from eahub.core.broker import port_open


def serve_until(app: FastAPI, host: str, port: int, stop: threading.Event) -> None:
    """Serve `app` on host:port until `stop` is set (then finish the requests in flight and return)."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))

    def stopper() -> None:
        stop.wait()
        server.should_exit = True

    threading.Thread(target=stopper, name=f"web-stop-{port}", daemon=True).start()
    server.run()


def wait_listening(host: str, port: int, what: str, timeout_s: float = 15) -> None:
    deadline = time.monotonic() + timeout_s
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not start on {host}:{port}")
        time.sleep(0.05)
