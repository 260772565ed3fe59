"""`eahub policy impact` and the hot reload's impact, through a running hub: mental-health events from the
trust are routed and recorded; a draft that drops the police from the crisis ISA is replayed against the
ledger (exit 1, the lost shares listed with event ids and reasons before and after; the policy in force:
exit 0); then the draft goes live and the POLICY_CHANGE entry records its impact on the router's recent
decisions, in counts only."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eahub.cli import main
from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.broker import free_port
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.messages import OutboundMessage
from eahub.core.paths import POLICIES_DIR
from eahub.core.settings import HubSettings
from eahub.hub.hub import start_hub
from tests.helpers import read_all
from tests.scenarios.cases import event

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

HEALTH, POLICE = "lscft-mental-health", "lancashire-police"
MH = "isa-lancs-mental-health-crisis"


def _publish(settings: HubSettings, events: list[dict]) -> None:
    publisher = KafkaPublisher(producer_config(settings))
    publisher.publish([OutboundMessage(topics.inbound(HEALTH), b"k", avro_codec.encode(schemas.CONCERN_EVENT, e))
                       for e in events])
    publisher.close()


def _audit(settings: HubSettings, until: object, timeout_s: float = 30) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        entries = [e for m in read_all(settings, topics.AUDIT, expect=0, settle_s=0.2)
                   for e in entries_of(m.value())]
        if until(entries):  # type: ignore[operator]
            return entries
        time.sleep(0.3)
    raise AssertionError("the audit topic did not show what was waited for")


def _in_ledger(event_ids: set[str], timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        out = CliRunner().invoke(main, ["audit", "query", "--kind", "decision", "--json"])
        if out.exit_code == 0 and event_ids <= {e["event_id"] for e in json.loads(out.stdout)}:
            return
        time.sleep(0.3)
    raise AssertionError("the ledger did not record every decision in time")


def test_policy_impact_before_and_at_go_live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = Path(shutil.copytree(POLICIES_DIR, tmp_path / "live"))
    settings = HubSettings(data_dir=tmp_path / "data", broker_port=free_port(), http_port=free_port(),
                           policies_dir=live, policy_reload_seconds=0.2)
    monkeypatch.setenv("EAHUB_DATA_DIR", str(settings.data_dir))
    hub = start_hub(settings)
    try:
        events = [event(700 + i, HEALTH, "MENTAL_HEALTH") for i in range(3)]
        events.append(event(710, HEALTH, "VULNERABLE_ADULT"))
        _publish(settings, events)
        _in_ledger({e["event_id"] for e in events})

        decision = next(e for e in _audit(settings, lambda es: any(x["kind"] == "DECISION" for x in es))
                        if e["kind"] == "DECISION")
        facts = json.loads(decision["details"]["policy_facts"])
        assert facts["event"]["subject_age_band"] == "adult" and facts["event"]["category"]
        assert events[0]["subject"]["name"] not in decision["details"]["policy_facts"]

        same = CliRunner().invoke(main, ["policy", "impact", str(POLICIES_DIR), "--since", "1"])
        assert same.exit_code == 0, same.output
        assert "replayed 4 recorded decisions: 0 shares gained, 0 lost" in same.output

        draft = Path(shutil.copytree(POLICIES_DIR, tmp_path / "draft"))
        isas_file = draft / "data" / "isas.json"
        isas = json.loads(isas_file.read_text())
        next(i for i in isas["isas"] if i["id"] == MH)["recipients"].pop(POLICE)
        isas_file.write_text(json.dumps(isas, indent=2))
        changed = CliRunner().invoke(main, ["policy", "impact", str(draft), "--since", "1"])
        assert changed.exit_code == 1, changed.output
        assert "replayed 4 recorded decisions: 0 shares gained, 3 lost" in changed.output
        assert f"{MH} -> {POLICE}: +0 gained, -3 lost" in changed.output
        assert f"- event {events[0]['event_id']}" in changed.output
        assert f"before: consent given by the subject; shared under ISA {MH} v1.2" in changed.output
        assert "after:  category MENTAL_HEALTH is not covered by any ISA between" in changed.output

        # The draft goes live: the router's POLICY_CHANGE records its impact on its recent decisions.
        shutil.copy(isas_file, live / "data" / "isas.json")
        time.sleep(0.6)
        later = event(720, HEALTH, "MENTAL_HEALTH")
        _publish(settings, [later])
        entries = _audit(settings, lambda es: any(x["kind"] == "POLICY_CHANGE" and x["details"].get(
            "previous_revision") for x in es))
        change = next(e for e in entries if e["kind"] == "POLICY_CHANGE" and e["details"]["previous_revision"])
        assert change["details"]["impact_replayed"] == "4"
        assert change["details"]["impact_shares_lost"] == "3" and change["details"]["impact_shares_gained"] == "0"
        assert change["details"]["impact_recipients_changed"] == POLICE
        assert not any(e["event_id"] in str(change) for e in events)
    finally:
        hub.shutdown()


def test_policy_impact_refuses_a_broken_draft_and_a_missing_ledger(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "nothing-here"))
    missing = CliRunner().invoke(main, ["policy", "impact", str(POLICIES_DIR)])
    assert missing.exit_code == 2 and "no ledger at" in missing.output
    broken = Path(shutil.copytree(POLICIES_DIR, tmp_path / "broken"))
    (broken / "data" / "isas.json").write_text("[]")
    refused = CliRunner().invoke(main, ["policy", "impact", str(broken)])
    assert refused.exit_code == 2 and "isas.json" in refused.output
