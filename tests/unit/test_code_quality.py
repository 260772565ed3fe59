"""The linters configured in pyproject.toml pass over the real tree, and each demonstrably looks at it: ruff over
the tree; mypy over the `eahub` package with every first-party import resolved (a deliberate type error in a
scratch module that uses `eahub` is reported); import-linter's layering contract over the whole import graph."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=ROOT, capture_output=True, text=True)


def test_ruff_passes() -> None:
    result = _run(sys.executable, "-m", "ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_passes_over_the_package_with_untyped_defs_disallowed() -> None:
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr
    checked = int(re.search(r"in (\d+) source files", result.stdout).group(1))  # type: ignore[union-attr]
    assert checked >= 90, result.stdout


def test_mypy_sees_first_party_types(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch_module.py"
    scratch.write_text(
        "from eahub.core.ids import case_id\n"
        "from eahub.policy.model import Override\n\n"
        "def use() -> int:\n"
        "    return case_id('e', 'r', 'd')\n\n"
        "def build() -> Override:\n"
        "    return Override('a', 'b', 'c', 4)\n"
    )
    result = _run(sys.executable, "-m", "mypy", "--config-file", ROOT / "pyproject.toml", scratch)
    assert result.returncode == 1
    assert 'Incompatible return value type (got "str", expected "int")' in result.stdout, result.stdout
    assert 'Argument 4 to "Override" has incompatible type "int"; expected "str"' in result.stdout, result.stdout


def test_the_layering_contract_is_kept_over_the_whole_import_graph() -> None:
    result = _run(BIN / "lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout
    found = re.search(r"Analyzed (\d+) files, (\d+) dependencies", result.stdout)
    assert found is not None, result.stdout
    files, dependencies = map(int, found.groups())
    assert files >= 90 and dependencies >= 300, result.stdout
