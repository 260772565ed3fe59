"""`eahub board init|backup|serve-workers` as an operator runs them, settings from the environment: the workers
process stores a routed case published on the embedded broker, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select

from eahub.board.tables import cases
from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.database import make_engine
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.board_support import routed_case

pytestmark = pytest.mark.integration


def test_init_and_backup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("EAHUB_BOARD_DATABASE_URL", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["board", "init"], catch_exceptions=False)
    assert result.exit_code == 0 and "board.db" in result.output and "board-keys.db" in result.output
    out = tmp_path / "backup.db"
    result = runner.invoke(main, ["board", "backup", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0 and out.exists()
    again = runner.invoke(main, ["board", "backup", "--out", str(out)])
    assert again.exit_code != 0 and "exists" in again.output


def test_serve_workers_stores_cases_and_stops_on_sigterm(hub_settings: HubSettings, tmp_path: Path) -> None:
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    rc = routed_case()
    publisher = KafkaPublisher(producer_config(hub_settings))
    publisher.publish([OutboundMessage(topics.board(rc["recipient"]), b"k", avro_codec.encode(schemas.ROUTED_CASE,
                                                                                                rc))])
    publisher.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EAHUB_") or k.startswith("EAHUB_TEST_")}
    env.update({"EAHUB_DATA_DIR": str(hub_settings.data_dir), "EAHUB_BROKER_PORT": str(hub_settings.broker_port),
                "EAHUB_BOARD_CONSUMER_GROUP": f"board-cli-{rc['case_id'][:8]}"})
    proc = subprocess.Popen([sys.executable, "-m", "eahub", "board", "serve-workers"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    engine = make_engine(f"sqlite:///{(hub_settings.data_dir / 'board.db').resolve()}")
    try:
        deadline = time.monotonic() + 40
        found = 0
        while time.monotonic() < deadline and not found:
            time.sleep(0.5)
            try:
                with engine.connect() as conn:
                    found = int(conn.scalar(select(func.count()).where(cases.c.case_id == rc["case_id"])) or 0)
            except Exception:  # the workers have not created the tables yet
                continue
        assert found == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=40)
    assert proc.returncode == 0, output.decode()
    assert b"Alex" not in output


def test_hub_init_creates_the_board_databases(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`eahub init` is the owner's one step: the boards' databases (cases and accounts; keys apart) come with it."""
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    for name in ("EAHUB_BOARD_DATABASE_URL", "EAHUB_BOARD_KEYS_DATABASE_URL", "EAHUB_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["init"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "board database ready" in result.output and "board keys database ready" in result.output
    board_tables = set(inspect(make_engine(f"sqlite:///{tmp_path / 'data' / 'board.db'}")).get_table_names())
    assert {"board_cases", "board_timers", "board_users", "board_sessions"} <= board_tables
    assert "board_keys" not in board_tables, "the keys live in their own database"
    keys_tables = inspect(make_engine(f"sqlite:///{tmp_path / 'data' / 'board-keys.db'}")).get_table_names()
    assert keys_tables == ["board_keys"]
