"""PostgreSQL privileges: with the statements of `eahub audit grants`, the service role can read and
append to the ledger but neither change it nor drop its triggers (only the tables' owner could)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import privilege_sql
from eahub.core.database import make_engine
from tests.unit.test_audit_entries import entries

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def service_role(postgres_url: str) -> Iterator[str]:
    role = f"eahub_audit_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    try:
        yield role
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")


def test_the_service_role_appends_but_cannot_change_or_unprotect_the_ledger(
    postgres_url: str, service_role: str
) -> None:
    owner = SqlLedgerStore(make_engine(postgres_url))  # the owner creates the tables and triggers
    with owner.engine.begin() as conn:
        conn.execute(text(f"GRANT USAGE ON SCHEMA public TO {service_role}"))
        for stmt in privilege_sql(service_role):
            conn.execute(text(stmt))
    owner.engine.dispose()
    base, db = postgres_url.rsplit("/", 1)
    as_service = make_engine(base.replace("postgres@", f"{service_role}@") + "/" + db)
    store = SqlLedgerStore(as_service, create=False)
    assert len(store.append(entries(5), NOW)) == 5
    assert store.size() == 5
    for statement, error in [
        ("UPDATE audit_ledger SET kind = 'ERASURE'", "permission denied"),
        ("DELETE FROM audit_ledger", "permission denied"),
        ("TRUNCATE audit_ledger", "permission denied"),
        ("DROP TRIGGER audit_ledger_no_change ON audit_ledger", "must be owner"),
        ("ALTER TABLE audit_ledger DISABLE TRIGGER USER", "must be owner"),
    ]:
        with pytest.raises(DBAPIError, match=error), as_service.begin() as conn:
            conn.execute(text(statement))
    assert store.size() == 5
    as_service.dispose()
