"""`eahub publish` on a file holding events that used to abort the whole run (a lone surrogate escape, JSON
nested 1,000 deep, a reported_at in the year 9999): each is reported, every valid event of the file is still
published, and the exit code says some were rejected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import topics
from eahub.core.settings import HubSettings
from tests.integration.test_ingest_broker import fresh_event, read_topic, settings, with_id  # noqa: F401

pytestmark = pytest.mark.integration


def test_eahub_publish_publishes_every_valid_event_and_reports_each_bad_one(
        settings: HubSettings, tmp_path: Path) -> None:  # noqa: F811
    good = [fresh_event(source_agency="nwas") for _ in range(2)]
    surrogate = json.dumps(fresh_event(source_agency="nwas", district="X")).replace('"X"', '"\\ud800"')
    deep = "[" * 1000 + "]" * 1000
    far = json.dumps(fresh_event(source_agency="nwas", reported_at="9999-12-31T00:00:00Z"))
    lines = [json.dumps(good[0]), surrogate, deep, far, json.dumps(good[1])]
    events_file = tmp_path / "events.jsonl"
    events_file.write_text("\n".join(lines) + "\n")
    env = {"EAHUB_DATA_DIR": str(settings.data_dir), "EAHUB_BROKER_PORT": str(settings.broker_port)}
    result = CliRunner(env=env).invoke(main, ["publish", "--agency", "nwas", str(events_file)])
    assert result.exit_code == 1, result.output
    out = result.stdout.splitlines()
    assert out[0] == f"{good[0]['event_id']} published"
    assert [line.split(" rejected")[0] for line in out[1:4]] == [f"{events_file}:{n}" for n in (2, 3, 4)]
    assert "reported_at" in out[3]
    assert out[4] == f"{good[1]['event_id']} published"
    on_topic = read_topic(settings, topics.inbound("nwas"))
    assert all(len(with_id(on_topic, e["event_id"])) == 1 for e in good)
