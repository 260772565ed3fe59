"""Ingest as a process of its own under `eahub up` (the default; `--one-process` keeps it in a thread): `eahub ingest`
(with break-glass) beside the threads of the other services, so that the router's policy evaluations (regorus holds
the GIL for a whole evaluation) do not hold up the 202s. Run as one of the hub's services: it stops the child when
the hub stops (SIGTERM), and a child that exits on its own stops the hub, loudly. The child has a session of its own,
so that a Ctrl-C reaches the hub only (a Ctrl-C in the child's start would end it with a traceback or "Aborted!"),
and it dies with the thread that started it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable

from eahub.core.broker import die_with_parent
from eahub.core.settings import HubSettings


def ingest_process(settings: HubSettings) -> Callable[[threading.Event], None]:
    env = {**os.environ, **settings.as_environment()}  # the child runs with exactly the hub's settings

    def run(stop: threading.Event) -> None:
        child = subprocess.Popen([sys.executable, "-m", "eahub", "ingest"], env=env, start_new_session=True,
                                 preexec_fn=die_with_parent)
        try:
            while child.poll() is None and not stop.wait(0.2):
                pass
            if not stop.wait(1.0):  # stopped together with the hub (systemd SIGTERMs every process) is no failure
                raise RuntimeError(f"the ingest process exited with {child.returncode}")
        finally:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(15)
                except subprocess.TimeoutExpired:
                    child.kill()
                    child.wait()

    return run
