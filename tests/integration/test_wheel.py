"""A wheel that runs anywhere: `pip wheel .` builds the package with `schemas/` and `policies/` inside it as data;
installed (not editable) into a fresh directory and run from another one, `eahub policy test` passes and `eahub
demo` starts and decides events. The test checks that the code it ran is the installed copy, not the source."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from eahub.core.broker import free_port

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(wheels), str(ROOT)], check=True, capture_output=True)
    [wheel] = wheels.glob("early_action_hub-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "eahub/schemas/eahub.ConcernEvent.avsc" in names
    assert "eahub/policies/eahub/sharing/decision.rego" in names
    assert "eahub/policies/data/isas.json" in names
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    return target


def _env(site: Path, data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAHUB_")}
    return {**env, "PYTHONPATH": str(site), "EAHUB_DATA_DIR": str(data)}


def test_the_installed_wheel_runs_the_policy_tests_from_another_directory(installed: Path, tmp_path: Path) -> None:
    env = _env(installed, tmp_path / "data")
    where = subprocess.run([sys.executable, "-c", "import eahub.core.paths as p; print(p.__file__, p.POLICIES_DIR)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(installed)) and str(ROOT) not in where.stdout
    result = subprocess.run([sys.executable, "-m", "eahub", "policy", "test"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 failed" in result.stdout


def test_the_installed_wheel_runs_the_demo(installed: Path, tmp_path: Path) -> None:
    env = {**_env(installed, tmp_path / "data"), "EAHUB_BROKER_PORT": str(free_port()),
           "EAHUB_HTTP_PORT": str(free_port())}
    demo = subprocess.Popen([sys.executable, "-m", "eahub", "demo", "--minutes-per-day", "0.5"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        assert demo.stdout is not None
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "  event " in line and "shared ->" in line:
                break
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(20)
        except subprocess.TimeoutExpired:
            demo.kill()
    assert any("shared ->" in line for line in lines), "".join(lines)
