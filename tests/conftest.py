"""Shared fixtures: a real embedded broker on a free port, and real databases (SQLite and PostgreSQL).

PostgreSQL: EAHUB_TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test). Each test
gets a fresh database created from it and dropped afterwards. When PostgreSQL is unreachable the
tests skip with the reason, except under CI=true, where they fail."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from eahub.core.broker import EmbeddedBroker, free_port
from eahub.core.logging import configure_logging
from eahub.core.settings import HubSettings

POSTGRES_URL = os.environ.get("EAHUB_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def _hub_logging() -> None:
    """The hub's log lines go to stderr as in production: the `sys.stderr` of the moment each line is written
    (pytest's capture, or a CliRunner's while one runs: a running hub's lines may then be in its `output`, so a
    command's JSON is read from its `stdout`), never a stream closed since (tests/unit/test_logging_stream.py)."""
    configure_logging("console", "info")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    log = tmp_path_factory.mktemp("broker") / "tansu.log"
    with EmbeddedBroker(port=free_port(), log_path=log) as b:
        yield b


@pytest.fixture
def hub_settings(tmp_path: Path, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch) -> HubSettings:
    """Settings for one test: its own data dir, the session's embedded broker."""
    for name in list(os.environ):
        if name.startswith("EAHUB_") and not name.startswith("EAHUB_TEST_"):
            monkeypatch.delenv(name)
    return HubSettings(data_dir=tmp_path / "data", broker_port=broker.port)


def _postgres_admin_url() -> str:
    return POSTGRES_URL


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    import psycopg

    try:
        admin = psycopg.connect(_postgres_admin_url().replace("postgresql+psycopg://", "postgresql://"),
                                autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        reason = f"PostgreSQL unreachable at {POSTGRES_URL}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: PostgreSQL tests must run)")
        pytest.skip(reason)
    name = f"eahub_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as admin2:
            admin2.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both databases of the hub's one code path."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    request.applymarker(pytest.mark.postgres)
    return str(request.getfixturevalue("postgres_url"))
