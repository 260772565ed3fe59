"""Ctrl-C stops `eahub demo` cleanly whenever it comes: right after launch (its feed's tokens just issued), during
the hub's start, and once it has started. Each time the demo prints "stopped.", exits 0 without a traceback, and
the feed's tokens are revoked (none is left in the data directory's token store)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eahub.core.broker import free_port
from eahub.ingest.tokens import TokenStore
from tests.support.processes import hub_env

pytestmark = pytest.mark.integration

BANNER = "Early Action Hub demo ("


def _wait_for(condition: object, what: str, timeout_s: float = 60.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"the demo never got to {what}"
        time.sleep(0.02)


@pytest.mark.parametrize("when", ["tokens issued", "0.5 s later", "started"])
def test_ctrl_c_stops_the_demo_cleanly_and_revokes_its_tokens(tmp_path: Path, when: str) -> None:
    data, out, err = tmp_path / "data", tmp_path / "demo.out", tmp_path / "demo.err"
    env = {**hub_env(data, free_port(), free_port()), "EAHUB_LOG_FORMAT": "console"}
    tokens = data / "tokens.json"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        demo = subprocess.Popen([sys.executable, "-m", "eahub", "demo"], env=env, stdout=stdout, stderr=stderr,
                                start_new_session=True)
    try:
        _wait_for(tokens.exists, "issuing its tokens")
        if when == "0.5 s later":
            time.sleep(0.5)
        elif when == "started":
            _wait_for(lambda: BANNER in out.read_text(), "its banner")
        os.killpg(demo.pid, signal.SIGINT)  # Ctrl-C: the whole foreground process group
        code = demo.wait(60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()
    printed, logged = out.read_text(), err.read_text()
    assert code == 0, printed + logged
    assert "stopped." in printed
    assert "Traceback" not in printed + logged
    assert TokenStore.in_data_dir(data).all() == []
