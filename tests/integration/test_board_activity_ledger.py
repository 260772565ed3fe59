"""Board views and actions reach the audit ledger: a CONSULTATION and ACTIONs published by the board on the
embedded broker are appended by the audit service, `eahub audit show --event` lists them, `verify` passes.
With the broker unreachable, the board shows no content and changes nothing."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.audit.bootstrap import build_audit_service
from eahub.audit.settings import AuditSettings
from eahub.board.bootstrap import build_board
from eahub.board.model import AuditUnavailable, InMemoryDirectory
from eahub.board.settings import BoardSettings
from eahub.cli import main
from eahub.core import topics
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings
from tests.board_support import ADULTS, actor, people, routed_case
from tests.helpers import initialised_audit
from tests.integration.test_board_consumer import wait_for

pytestmark = pytest.mark.integration


def test_board_activity_becomes_ledger_entries(hub_settings: HubSettings, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    topics.create_topics(hub_settings, agency_ids(hub_settings.policies_dir))
    staff = people(ADULTS)
    parts = build_board(hub_settings, BoardSettings(), directory=InMemoryDirectory(staff))
    rc = routed_case(subject_ref=f"subj-{uuid.uuid4().hex[:8]}")
    parts.board.store_case(rc)
    m1 = actor(staff[0])
    content = parts.board.open_case(m1, rc["case_id"], "triage")
    assert content.concern["subject"]["name"] == "Alex Example"
    parts.board.command(m1, rc["case_id"], "claim", {})
    parts.board.command(m1, rc["case_id"], "acknowledge", {})
    parts.close()

    audit = initialised_audit(hub_settings)
    service = build_audit_service(hub_settings, AuditSettings(checkpoint_every_entries=1, checkpoint_every_seconds=1),
                                  group_id=f"audit-board-{uuid.uuid4().hex[:8]}")
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: len([r for r in audit.store.rows() if r.subject_ref == rc["subject_ref"]]) >= 3)
    finally:
        stop.set()
        thread.join(20)

    monkeypatch.setenv("EAHUB_DATA_DIR", str(hub_settings.data_dir))
    shown = CliRunner().invoke(main, ["audit", "show", "--event", rc["event_id"], "--json"], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    docs = json.loads(shown.stdout)
    kinds = sorted(d["kind"] for d in docs)
    assert kinds == ["ACTION", "ACTION", "CONSULTATION"]
    consultation = next(d for d in docs if d["kind"] == "CONSULTATION")
    assert consultation["actor"] == f"board:{ADULTS}:{m1.user_id}"
    assert consultation["recipient"] == ADULTS and consultation["case_id"] == rc["case_id"]
    assert consultation["details"]["part"] == "concern" and consultation["details"]["session_ref"] == m1.session_ref
    assert consultation["reasons"] == ["viewed concern for triage"]
    assert {d["details"].get("action") for d in docs if d["kind"] == "ACTION"} == {"claim", "acknowledge"}
    assert "Alex" not in shown.output and "crisis" not in shown.output
    sar = CliRunner().invoke(main, ["audit", "sar", "--subject", rc["subject_ref"]], catch_exceptions=False)
    assert sar.exit_code == 0 and "CONSULTATION" in sar.output and "ACTION" in sar.output, sar.output
    verified = CliRunner().invoke(main, ["audit", "verify"], catch_exceptions=False)
    assert verified.exit_code == 0, verified.output


def test_broker_down_means_no_content_and_no_change(hub_settings: HubSettings, tmp_path: Path) -> None:
    with socket.socket() as held:  # bound, never listening: nothing answers there, and no later test reuses it
        held.bind(("127.0.0.1", 0))
        down = hub_settings.model_copy(update={"broker_port": held.getsockname()[1]})
        staff = people(ADULTS)
        parts = build_board(down, BoardSettings(), directory=InMemoryDirectory(staff))
        publisher = parts.board.activity._publisher  # type: ignore[attr-defined]
        publisher._timeout_s = 2.0  # keep the test short
        try:
            rc = routed_case()
            parts.board.store_case(rc)
            m1 = actor(staff[0])
            with pytest.raises(AuditUnavailable):
                parts.board.open_case(m1, rc["case_id"], "triage")
            with pytest.raises(AuditUnavailable):
                parts.board.command(m1, rc["case_id"], "claim", {})
            head = parts.board.header(m1, rc["case_id"])
            assert (head.state, head.version, head.owner_user_id) == ("NEW", 1, None)
        finally:
            publisher._producer.purge()  # drop the records that were never acknowledged, then let go
            parts.close()
