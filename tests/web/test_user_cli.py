"""`eahub board user add|list|disable` against a real SQLite board database in a temp data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main

pytestmark = pytest.mark.integration


def test_user_add_list_disable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EAHUB_BOARD_DATABASE_URL", raising=False)
    run = CliRunner()
    add = ["board", "user", "add", "--agency", "lancashire-police", "--role", "manager", "--name", "pc.jones",
           "--email", "jones@police.example"]
    r = run.invoke(main, [*add, "--password-stdin"], input="a long password\n")
    assert r.exit_code == 0, r.output
    assert "a long password" not in r.output
    r = run.invoke(main, add, input="another password\nanother password\n")
    assert r.exit_code != 0 and "login: already taken" in r.output
    r = run.invoke(main, ["board", "user", "add", "--agency", "nowhere", "--role", "member", "--name", "x",
                          "--password-stdin"], input="a long password\n")
    assert r.exit_code != 0 and "agency" in r.output
    r = run.invoke(main, ["board", "user", "add", "--agency", "nwas", "--role", "member", "--name", "para.one"],
                   input="prompted pw 1\nprompted pw 1\n")
    assert r.exit_code == 0, r.output
    listed = run.invoke(main, ["board", "user", "list"]).output
    assert "pc.jones\tlancashire-police\tmanager\tactive" in listed and "para.one\tnwas\tmember" in listed
    assert run.invoke(main, ["board", "user", "disable", "pc.jones"]).exit_code == 0
    assert "pc.jones\tlancashire-police\tmanager\tdisabled" in run.invoke(main, ["board", "user", "list"]).output
    assert run.invoke(main, ["board", "user", "disable", "nobody"]).exit_code != 0
    assert (tmp_path / "data" / "board.db").exists()
