"""Least privilege on PostgreSQL: an owner role creates the tables once (`eahub init`); the services then run as
a real non-owner role with the grants `eahub audit grants` prints. As that role the audit service's parts open
the ledger without DDL and append, ingest records idempotency claims, break-glass reads the ledger — and the role
can neither change the ledger nor drop or disable its triggers (only the owner could)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eahub.audit.bootstrap import open_audit, open_ledger
from eahub.cli import main
from eahub.core.database import make_engine
from eahub.core.settings import HubSettings
from eahub.ingest.idempotency import Idempotency, Outcome, SqlIdempotencyRecords
from tests.unit.test_audit_entries import entries

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def service_role(postgres_url: str) -> Iterator[str]:
    role = f"eahub_svc_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        yield role
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


@pytest.mark.postgres
def test_services_run_under_the_granted_role_without_ddl(
    postgres_url: str, service_role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EAHUB_DATABASE_URL", postgres_url)  # the owner
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    grants = runner.invoke(main, ["audit", "grants", "--role", service_role])
    assert grants.exit_code == 0, grants.output
    assert "ingest_idempotency" in grants.output and "audit_vault_keys" in grants.output
    owner = make_engine(postgres_url)
    with owner.begin() as conn:
        for stmt in grants.output.strip().splitlines():
            conn.execute(text(stmt))
    owner.dispose()

    base, db = postgres_url.rsplit("/", 1)
    service_url = base.replace("postgres@", f"{service_role}@") + "/" + db
    settings = HubSettings(data_dir=tmp_path / "data", database_url=service_url)
    parts = open_audit(settings)  # as the audit service opens it: no CREATE OR REPLACE anywhere
    assert len(parts.store.append(entries(5), NOW)) == 5
    assert parts.checkpointer.checkpoint() is not None
    ledger = open_ledger(settings)  # break-glass's reader
    assert ledger.size() == 5
    claims = Idempotency(SqlIdempotencyRecords(make_engine(service_url)))
    assert claims.claim("0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4e", "h", "nwas", 1).outcome is Outcome.NEW
    for statement, error in [
        ("UPDATE audit_ledger SET kind = 'ERASURE'", "permission denied"),
        ("DELETE FROM audit_ledger", "permission denied"),
        ("TRUNCATE audit_ledger", "permission denied"),
        ("DROP TRIGGER audit_ledger_no_change ON audit_ledger", "must be owner"),
        ("ALTER TABLE audit_ledger DISABLE TRIGGER USER", "must be owner"),
        ("CREATE OR REPLACE FUNCTION eahub_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
         "BEGIN RETURN NEW; END $$", "permission denied"),
    ]:
        with pytest.raises(DBAPIError, match=error), parts.engine.begin() as conn:
            conn.execute(text(statement))
    assert parts.store.size() == 5
    parts.engine.dispose()
    ledger.engine.dispose()


def test_an_uninitialised_database_is_named_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EAHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1 and "run `eahub audit init`" in result.output
    assert make_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect().exec_driver_sql(
        "SELECT count(*) FROM sqlite_master").scalar() == 0
