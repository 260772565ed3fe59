from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.ingest.tokens import TokenStore

pytestmark = pytest.mark.unit


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    return {"EAHUB_DATA_DIR": str(tmp_path / "data")}


def test_token_issue_list_revoke(env: dict[str, str], tmp_path: Path) -> None:
    runner = CliRunner()
    issued = runner.invoke(main, ["token", "issue", "--agency", "nwas"])
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    store = TokenStore.in_data_dir(tmp_path / "data")
    assert store.agency_for(token) == "nwas"
    listed = runner.invoke(main, ["token", "list"])
    [line] = listed.output.strip().splitlines()
    token_id, agency, _created, role = line.split("\t")
    assert agency == "nwas" and role == "-" and token not in listed.output
    assert runner.invoke(main, ["token", "revoke", token_id]).exit_code == 0
    assert store.agency_for(token) is None
    again = runner.invoke(main, ["token", "revoke", token_id])
    assert again.exit_code == 1 and "no token with id" in again.output


def test_token_issue_with_a_break_glass_role(env: dict[str, str], tmp_path: Path) -> None:
    issued = CliRunner().invoke(main, ["token", "issue", "--agency", "lancashire-police",
                                       "--role", "police-duty-inspector"])
    assert issued.exit_code == 0, issued.output
    info = TokenStore.in_data_dir(tmp_path / "data").lookup(issued.output.strip().splitlines()[-1])
    assert info is not None and info.role == "police-duty-inspector"
    assert CliRunner().invoke(main, ["token", "list"]).output.strip().endswith("police-duty-inspector")


def test_token_issue_unknown_agency(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["token", "issue", "--agency", "acme"])
    assert result.exit_code == 1
    assert "unknown agency 'acme'" in result.output


def test_generate_is_byte_identical_for_a_seed_and_start(env: dict[str, str]) -> None:
    args = ["generate", "--count", "50", "--seed", "9", "--start", "2026-03-01T00:00:00Z"]
    first, second = CliRunner().invoke(main, args), CliRunner().invoke(main, args)
    assert first.exit_code == 0 and first.stdout_bytes == second.stdout_bytes
    lines = first.output.splitlines()
    assert len(lines) == 50 and json.loads(lines[0])["reported_at"] >= "2026-03-01T00:00:00Z"


def test_generate_needs_count_or_days(env: dict[str, str]) -> None:
    assert CliRunner().invoke(main, ["generate"]).exit_code == 2
    assert CliRunner().invoke(main, ["generate", "--count", "1", "--start", "soon"]).exit_code == 2


def test_publish_unknown_agency(env: dict[str, str], tmp_path: Path) -> None:
    f = tmp_path / "e.json"
    f.write_text("{}")
    result = CliRunner().invoke(main, ["publish", "--agency", "acme", str(f)])
    assert result.exit_code == 1 and "unknown agency" in result.output


def test_publish_reads_stdin_and_reports_every_rejection(env: dict[str, str]) -> None:
    # all rejected: nothing reaches a broker, so none is needed
    lines = ['{"source_agency": "nwas"}', "[1, 2", '{"source_agency": "lancashire-police"}']
    result = CliRunner().invoke(main, ["publish", "--agency", "nwas", "-"], input="\n".join(lines))
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert out[0].startswith("<stdin>:1 rejected: occurred_at: is required; reported_at: is required")
    assert out[1].startswith("<stdin>:2 rejected: not valid JSON")
    assert out[2] == "<stdin>:3 rejected: source_agency: is not nwas, the publishing agency"
    assert "3 of 3 event(s) rejected" in result.stderr


def test_publish_refuses_what_the_http_api_refuses(env: dict[str, str]) -> None:
    """One strict JSON reader: duplicate keys, NaN, unpaired surrogates and deep nesting are refused by
    `eahub publish` exactly as `POST /v1/events` refuses them, each naming what is wrong."""
    lines = ['{"source_agency": "nwas", "source_agency": "nwas"}', '{"risk": NaN}', '{"district": "\\ud800"}',
             "[" * 40 + "]" * 40]
    result = CliRunner().invoke(main, ["publish", "--agency", "nwas", "-"], input="\n".join(lines))
    assert result.exit_code == 1
    out = result.stdout.splitlines()
    assert "duplicate key 'source_agency'" in out[0]
    assert "NaN is not a JSON number" in out[1]
    assert "unpaired surrogate" in out[2]
    assert "nested more than" in out[3]


def test_generate_gives_the_same_events_for_the_same_seed_on_every_run(env: dict[str, str]) -> None:
    runs = [CliRunner().invoke(main, ["generate", "--count", "50", "--seed", "7"]) for _ in range(2)]
    assert runs[0].exit_code == 0 and runs[0].stdout == runs[1].stdout
    assert runs[0].stdout != CliRunner().invoke(main, ["generate", "--count", "50", "--seed", "8"]).stdout
