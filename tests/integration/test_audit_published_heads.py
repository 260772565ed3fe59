"""Heads kept outside the database catch what the database alone cannot: an attacker who deletes the
newest entries together with the tree heads that covered them, or rewrites history under the hub's key."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete

from eahub.audit.bootstrap import AuditParts
from eahub.audit.tables import ledger, tree_heads
from eahub.audit.verify import verify_ledger
from eahub.cli import main
from eahub.core.settings import HubSettings
from tests.helpers import initialised_audit
from tests.integration.test_audit_tamper import drop_triggers
from tests.unit.test_audit_entries import entries

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def parts(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditParts:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EAHUB_DATABASE_URL", database_url)
    p = initialised_audit(HubSettings())
    batch = entries(300)
    for i in range(0, 300, 100):
        p.store.append(batch[i : i + 100], NOW)
        p.checkpointer.checkpoint()
    return p


def test_truncating_the_ledger_with_its_heads_is_caught_by_the_copies(parts: AuditParts, tmp_path: Path) -> None:
    kept = tmp_path / "heads.jsonl"
    kept.write_text("\n".join(json.dumps(h.to_json()) for h in parts.store.tree_heads()))
    drop_triggers(parts.engine)
    with parts.engine.begin() as conn:
        conn.execute(delete(ledger).where(ledger.c.seq >= 250))
        conn.execute(delete(tree_heads).where(tree_heads.c.tree_size > 250))
    alone = verify_ledger(parts.engine, parts.signer.public_key)
    assert alone.ok  # the database alone cannot tell...
    result = CliRunner().invoke(main, ["audit", "verify", "--heads", str(kept)])
    assert result.exit_code == 1  # ...the copies can
    assert "entry seq 250" in result.output and "deleted" in result.output


def test_a_rewritten_history_under_the_hubs_key_shows_as_a_fork(parts: AuditParts) -> None:
    published = parts.store.tree_heads()
    forged = parts.signer.sign(200, b"\x11" * 32, 5)
    drop_triggers(parts.engine)
    with parts.engine.begin() as conn:
        conn.execute(delete(tree_heads).where(tree_heads.c.tree_size == 200))
    parts.store.add_tree_head(forged)
    result = verify_ledger(parts.engine, parts.signer.public_key, published)
    assert not result.ok and "size 200 disagree" in result.problem


def test_copies_not_signed_by_the_hub_are_ignored(parts: AuditParts, tmp_path: Path) -> None:
    from eahub.audit.signing import Signer

    junk = Signer.from_data_dir(tmp_path / "other").sign(10_000, b"\x00" * 32, 1)
    assert verify_ledger(parts.engine, parts.signer.public_key, [junk]).ok
