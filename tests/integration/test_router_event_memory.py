"""The router's durable event id memory (`router_event_digests`) on PostgreSQL under the least-privilege role:
`eahub init` creates the table as the owner, `eahub audit grants` covers it, and the router, logged in as the
non-owner role, records first-seen contents and finds them again (concurrent routers agree: the primary key
decides). A missing table is a misconfiguration the router refuses to start with."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from eahub.cli import main
from eahub.core.database import make_engine
from eahub.core.settings import HubSettings
from eahub.router.event_digests import open_event_digests
from tests.integration.test_audit_privileges import service_role  # noqa: F401 - the fixture

pytestmark = pytest.mark.integration


@pytest.mark.postgres
def test_the_router_keeps_its_event_id_memory_under_the_granted_role(
    postgres_url: str, service_role: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EAHUB_DATABASE_URL", postgres_url)
    runner = CliRunner()
    assert runner.invoke(main, ["init"]).exit_code == 0
    grants = runner.invoke(main, ["audit", "grants", "--role", service_role])
    assert "router_event_digests" in grants.output
    owner = make_engine(postgres_url)
    with owner.begin() as conn:
        for stmt in grants.output.strip().splitlines():
            conn.execute(text(stmt))
    owner.dispose()
    base, db = postgres_url.rsplit("/", 1)
    service_url = base.replace("postgres@", f"{service_role}@") + "/" + db
    service = HubSettings(data_dir=tmp_path / "data", database_url=service_url)
    one, two = open_event_digests(service), open_event_digests(service)
    assert one.first_seen({"e1": "a" * 64, "e2": "b" * 64}) == {"e1": "a" * 64, "e2": "b" * 64}
    assert two.first_seen({"e1": "c" * 64, "e3": "d" * 64}) == {"e1": "a" * 64, "e3": "d" * 64}
    assert one.first_seen({"e1": "a" * 64}) == {"e1": "a" * 64}, "a replay finds its own content"


def test_a_router_without_its_table_refuses_to_start(tmp_path: Path) -> None:
    settings = HubSettings(data_dir=tmp_path / "data")
    with pytest.raises(RuntimeError, match="eahub init"):
        open_event_digests(settings)
