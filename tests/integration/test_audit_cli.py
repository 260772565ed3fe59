"""`eahub audit ...` end to end on a real database (SQLite and PostgreSQL), through the `eahub` CLI, with
the settings read from the environment as an operator would set them. Proofs printed by the CLI are
checked with the RFC 9162 definitions written in the Merkle unit tests, not with the ledger's own code."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text, update

from eahub.audit.bootstrap import AuditParts
from eahub.audit.tables import ledger
from eahub.cli import main
from eahub.core.settings import HubSettings
from tests.helpers import initialised_audit
from tests.integration.test_audit_tamper import drop_triggers
from tests.unit.test_audit_entries import audit_entry, entries
from tests.unit.test_audit_merkle import root_from_inclusion, roots_from_consistency

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def hub(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditParts:
    monkeypatch.setenv("EAHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EAHUB_DATABASE_URL", database_url)
    parts = initialised_audit(HubSettings())
    parts.store.append(entries(200), NOW)
    parts.checkpointer.checkpoint()
    parts.store.append(entries(230)[200:], NOW)  # 30 entries not yet under a head
    return parts


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def test_verify_exits_0_with_a_summary_then_1_naming_the_altered_entry(hub: AuditParts) -> None:
    ok = run("verify")
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().splitlines() == [ok.output.strip()]
    assert "ledger intact: 230 entries, 1 signed tree heads verified, latest covers 200" in ok.output
    drop_triggers(hub.engine)
    victim = next(hub.store.rows(42, 43))
    with hub.engine.begin() as conn:
        conn.execute(update(ledger).where(ledger.c.seq == 42).values(entry=victim.entry.replace(b"router", b"rooter")))
    bad = run("verify")
    as_json = run("verify", "--json")
    assert as_json.exit_code == 1
    doc = json.loads(as_json.stdout)
    assert (doc["ok"], doc["first_bad_seq"], doc["first_bad_entry_id"]) == (False, 42, victim.entry_id)
    assert bad.exit_code == 1
    assert f"entry seq 42 (entry_id {victim.entry_id})" in bad.output and "modified" in bad.output


def test_show_prints_the_trail_of_one_event(hub: AuditParts) -> None:
    result = run("show", "--event", "event-3")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("event event-3: 4 audit entries")
    assert "withheld: subject.nhs_number, referrer" in result.output and "reason: reason 13" in result.output
    assert "ISA isa-police-" in result.output and "lawful basis" in result.output
    as_json = json.loads(run("show", "--event", "event-3", "--json").stdout)
    assert [d["ledger_seq"] for d in as_json] == [12, 13, 14, 15]
    missing = run("show", "--event", "no-such-event")
    assert missing.exit_code == 3


def test_prove_prints_an_inclusion_proof_that_checks_against_the_signed_head(hub: AuditParts) -> None:
    target = next(hub.store.rows(7, 8)).entry_id
    result = run("prove", "--entry", target)
    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    leaf = bytes.fromhex(proof["leaf_hash"])
    assert proof["leaf_index"] == 7 and proof["tree_size"] == proof["tree_head"]["tree_size"] == 200
    assert (
        root_from_inclusion(leaf, 7, 200, [bytes.fromhex(h) for h in proof["audit_path"]]).hex()
        == (proof["tree_head"]["root_hash"])
    )
    # an entry past the latest head gets a fresh head first
    late = json.loads(run("prove", "--entry", next(hub.store.rows(225, 226)).entry_id).stdout)
    assert late["tree_size"] == 230
    assert run("prove", "--entry", "nope").exit_code == 3


def test_consistency_prints_a_proof_between_two_sizes(hub: AuditParts) -> None:
    result = run("consistency", "--from", "77", "--to", "230")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    old, new = roots_from_consistency(
        77, 230, [bytes.fromhex(h) for h in doc["proof"]], bytes.fromhex(doc["from_root"])
    )
    assert (old.hex(), new.hex()) == (doc["from_root"], doc["to_root"])
    assert run("consistency", "--from", "10", "--to", "999").exit_code == 2
    assert run("consistency", "--from", "0", "--to", "5").exit_code == 2


def test_sar_query_csv_and_overrides(hub: AuditParts) -> None:
    subject = audit_entry(3)["subject_ref"]
    sar = json.loads(run("sar", "--subject", subject, "--json").stdout)
    assert sar["subject_ref"] == subject and not sar["erased"]
    assert {e["subject_ref"] for e in sar["entries"]} == {subject} and len(sar["entries"]) == 5
    text_out = run("sar", "--subject", subject).output
    assert text_out.startswith(f"subject {subject}: 5 audit entries, 0 disclosed payloads")
    refusals = run("query", "--kind", "refusals", "--csv")
    rows = list(csv.DictReader(io.StringIO(refusals.output)))
    assert rows and {r["kind"] for r in rows} == {"REFUSAL"}
    pair = json.loads(run("query", "--from-agency", "lancashire-police", "--to-agency", "nwas", "--json").stdout)
    assert pair and {d["recipient"] for d in pair} == {"nwas"}
    ranged = json.loads(run("query", "--since", "2026-05-01T15:10:00Z", "--until", "2026-05-01T15:20", "--json").stdout)
    assert [d["ledger_seq"] for d in ranged] == list(range(10, 20))
    pending = run("query", "--overrides-pending")
    assert pending.exit_code == 0 and "OVERRIDE" in pending.output
    assert run("query", "--kind", "gossip").exit_code == 2
    assert run("query", "--since", "yesterday").exit_code == 2


def test_verify_is_incremental_after_a_verified_run_full_on_request_and_full_when_its_record_is_forged(
    hub: AuditParts, tmp_path: Path
) -> None:
    first = json.loads(run("verify", "--json").stdout)
    assert (first["ok"], first["incremental"], first["checked_from"]) == (True, False, 0)
    hub.store.append(entries(260)[230:], NOW)
    hub.checkpointer.checkpoint()  # a new head at 260
    second = json.loads(run("verify", "--json").stdout)
    assert (second["ok"], second["incremental"], second["checked_from"], second["covered_size"]) == (
        True, True, 200, 260), second["summary"]
    assert "incremental: entries 0..199 are unchanged" in second["summary"]
    assert json.loads(run("verify", "--json").stdout)["checked_from"] == 260
    full = json.loads(run("verify", "--full", "--json").stdout)
    assert (full["ok"], full["incremental"], full["checked_from"]) == (True, False, 0)
    record = tmp_path / "data" / "audit-verified.json"
    doc = json.loads(record.read_text())
    doc["state"]["compact_range"] = []  # altered: no longer signed
    record.write_text(json.dumps(doc))
    forged = json.loads(run("verify", "--json").stdout)
    assert (forged["ok"], forged["incremental"], forged["checked_from"]) == (True, False, 0)
    assert "not signed by the hub's key" in forged["note"]
    assert "incremental" in run("verify", "--help").output


def test_export_then_verify_bundle_offline(hub: AuditParts, tmp_path: Path) -> None:
    out = tmp_path / "evidence.json"
    key = tmp_path / "hub.pem"
    key.write_text(run("public-key").output)
    assert key.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    result = run("export", "--subject", audit_entry(3)["subject_ref"], "--out", str(out))
    assert result.exit_code == 0, result.output
    hub.engine.dispose()
    ok = run("verify-bundle", str(out), "--public-key", str(key))
    assert ok.exit_code == 0 and ok.output.startswith("bundle valid: 5 entries"), ok.output
    bundle = json.loads(out.read_text())
    bundle["entries"][2]["entry"] = bundle["entries"][2]["entry"].replace('"actor":"router"', '"actor":"nobody"')
    out.write_text(json.dumps(bundle))
    bad = run("verify-bundle", str(out), "--public-key", str(key))
    assert bad.exit_code == 1 and "BUNDLE INVALID" in bad.output
    out.write_text("not json")
    assert run("verify-bundle", str(out), "--public-key", str(key)).exit_code == 1
    untrusted = run("verify-bundle", str(out))
    assert untrusted.exit_code == 2 and "--public-key" in untrusted.output
    assert run("export", "--out", str(out)).exit_code == 2


def test_erase_keeps_the_ledger_verifiable(hub: AuditParts) -> None:
    subject = audit_entry(3)["subject_ref"]
    result = run("erase", "--subject", subject, "--reason", "erasure request 2026/17", "--vault-only")
    assert result.exit_code == 0 and "recorded as entry" in result.output
    assert json.loads(run("sar", "--subject", subject, "--json").stdout)["erased"] is True
    verdict = run("verify")
    assert verdict.exit_code == 0 and "231 entries" in verdict.output and "latest covers 231" in verdict.output


def test_grants_and_init(hub: AuditParts) -> None:
    grants = run("grants", "--role", "eahub_audit")
    assert (
        "REVOKE UPDATE, DELETE, TRUNCATE" in grants.output and "GRANT SELECT, INSERT ON audit_ledger" in grants.output
    )
    assert run("grants", "--role", "x; DROP TABLE y").exit_code == 2
    assert "ledger holds 230 entries" in run("init").output
    with hub.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_ledger")).scalar() == 230
