"""Governance on real databases (SQLite and PostgreSQL): subject access requests with the vault's
decrypted payloads, erasure by crypto-shredding (the ledger still verifies), retention expiry, the IG
queries and CSV, and signed evidence bundles checked offline."""

from __future__ import annotations

import copy
import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from eahub.audit import queries
from eahub.audit.bootstrap import AuditParts
from eahub.audit.bundle import export_bundle, verify_bundle
from eahub.audit.erasure import erase_subject
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import Signer, public_key_pem
from eahub.audit.store import EntryFilter
from eahub.audit.verify import verify_ledger
from eahub.core import ids
from eahub.core.settings import HubSettings
from eahub.router.projection import project
from tests.helpers import concern_event, initialised_audit
from tests.unit.test_audit_entries import audit_entry, entries

pytestmark = pytest.mark.integration
NOW = datetime(2026, 5, 2, tzinfo=UTC)
SUBJECT = audit_entry(3)["subject_ref"]  # entries 3, 53, ... of the factory


@pytest.fixture
def parts(database_url: str, tmp_path: Path) -> AuditParts:
    p = initialised_audit(
        HubSettings(data_dir=tmp_path / "data", database_url=database_url),
        AuditSettings(retention_days_disclosure=30, retention_days_override=0),
    )
    p.store.append(entries(120), NOW)
    p.checkpointer.checkpoint()
    return p


def routed_case(subject_ref: str, recipient: str = "lancashire-cc-adults", override: bool = False) -> dict[str, Any]:
    event = concern_event()
    shared = [
        "event_id",
        "occurred_at",
        "reported_at",
        "source_agency",
        "category",
        "grade",
        "security_marking",
        "district",
        "consent",
        "narrative",
        "subject.name",
    ]
    decision = ids.decision_id(event["event_id"], "rev-1")
    return {
        "case_id": ids.case_id(event["event_id"], recipient, decision),
        "event_id": event["event_id"],
        "recipient": recipient,
        "source_agency": event["source_agency"],
        "subject_ref": subject_ref,
        "decision_id": decision,
        "policy_revision": "rev-1",
        "isa_id": "isa-1",
        "isa_version": "1",
        "lawful_basis": "DPA 2018 Sch 1 para 18",
        "purpose": "safeguarding",
        "shared_fields": shared,
        "withheld_fields": ["subject.nhs_number", "referrer"],
        "reasons": [],
        "override": override,
        "due_by": NOW + timedelta(hours=1),
        "routed_at": NOW,
        "concern": project(event, frozenset(shared)),
    }


def test_secrets_are_created_owner_only(parts: AuditParts, tmp_path: Path) -> None:
    for name in ("audit-signing.key", "vault-master.key"):
        mode = stat.S_IMODE(os.stat(tmp_path / "data" / "secrets" / name).st_mode)
        assert mode == 0o600, name


def test_sar_lists_every_entry_about_the_subject_and_the_payloads_as_disclosed(parts: AuditParts) -> None:
    case = routed_case(SUBJECT)
    assert parts.vault.store(case) is True
    assert parts.vault.store(case) is False  # replayed board message
    report = queries.sar(parts.store, parts.vault, SUBJECT)
    assert report.entries and all(e["subject_ref"] == SUBJECT for e in report.entries)
    assert {e["ledger_seq"] for e in report.entries} == {r.seq for r in parts.store.rows() if r.subject_ref == SUBJECT}
    [payload] = report.payloads
    assert payload.record is not None and payload.record["concern"] == case["concern"]
    assert payload.record["concern"]["subject"]["nhs_number"] is None  # withheld stays withheld
    doc = report.to_json()
    json.dumps(doc)
    assert doc["payloads"][0]["disclosed"]["recipient"] == "lancashire-cc-adults"


def test_payloads_at_rest_are_ciphertext(parts: AuditParts) -> None:
    case = routed_case(SUBJECT)
    parts.vault.store(case)
    _nonce, sealed = parts.vault.sealed(case["case_id"])
    assert case["concern"]["subject"]["name"].encode() not in sealed
    assert case["concern"]["narrative"].encode() not in sealed


def test_erasure_shreds_the_payloads_and_the_ledger_still_verifies(parts: AuditParts) -> None:
    case = routed_case(SUBJECT)
    parts.vault.store(case)
    other = routed_case(audit_entry(4)["subject_ref"])
    parts.vault.store(other)
    sealed_before = parts.vault.sealed(case["case_id"])
    result = erase_subject(parts.vault, parts.checkpointer, SUBJECT, actor="ig-officer:7", reason="Art. 17 request")
    assert result.payloads_unreadable == 1 and result.tree_head is not None
    report = queries.sar(parts.store, parts.vault, SUBJECT)
    assert report.erased and [p.erased for p in report.payloads] == [True]
    assert report.payloads[0].record is None
    assert report.entries[-1]["kind"] == "ERASURE" and report.entries[-1]["entry_id"] == result.entry_id
    # the ciphertext (and any backup of it) is unreadable: no key in the vault opens it any more
    from eahub.audit.tables import vault_keys

    with parts.engine.connect() as conn:
        keys = conn.execute(vault_keys.select().where(vault_keys.c.subject_ref == SUBJECT)).all()
    assert keys and all(k.wrapped_key is None and k.erased_at_ms for k in keys)
    with pytest.raises(Exception):  # noqa: B017 - any key guess fails authentication
        AESGCM(AESGCM.generate_key(bit_length=256)).decrypt(
            sealed_before[0], sealed_before[1], case["case_id"].encode()
        )
    # other subjects are untouched, and the ledger verifies
    assert queries.sar(parts.store, parts.vault, other["subject_ref"]).payloads[0].record is not None
    verdict = verify_ledger(parts.engine, parts.signer.public_key)
    assert verdict.ok and verdict.covered_size == verdict.size == 121, verdict.summary()
    # later lawful processing about the same person is sealed under a new key
    later = routed_case(SUBJECT, recipient="nwas")
    parts.vault.store(later)
    assert [p.record is not None for p in parts.vault.payloads(SUBJECT)] == [False, True]


def test_expiry_removes_payloads_never_ledger_entries(parts: AuditParts) -> None:
    parts.vault.store(routed_case(SUBJECT))  # disclosure: kept 30 days
    parts.vault.store(routed_case(SUBJECT, recipient="nwas", override=True))  # override: 0 days in this setup
    size = parts.store.size()
    assert parts.vault.expire() == 1
    assert [p.kind for p in parts.vault.payloads(SUBJECT)] == ["DISCLOSURE"]
    in_31_days = int((datetime.now(UTC) + timedelta(days=31)).timestamp() * 1000)
    assert parts.vault.expire(in_31_days) == 1 and parts.vault.payloads(SUBJECT) == []
    assert parts.store.size() == size and verify_ledger(parts.engine, parts.signer.public_key).ok


def test_ig_queries(parts: AuditParts) -> None:
    docs = [r.document() for r in parts.store.rows()]
    assert queries.by_isa(parts.store, "isa-police-nwas") == [d for d in docs if d["isa_id"] == "isa-police-nwas"]
    assert queries.by_pair(parts.store, "lancashire-police", "lscft-mental-health") == [
        d for d in docs if d["recipient"] == "lscft-mental-health"
    ]
    assert queries.refusals(parts.store) == [d for d in docs if d["kind"] == "REFUSAL"]
    since, until = 1_777_650_000_000, 1_777_652_000_000
    assert queries.between(parts.store, since, until) == [
        d for d in docs if since <= int(datetime.fromisoformat(d["occurred_at"]).timestamp() * 1000) < until
    ]
    pending = queries.overrides_pending(parts.store)
    assert pending == [d for d in docs if d["kind"] == "OVERRIDE"] and len(pending) >= 2
    review = audit_entry(9000, "ACTION", actor="ig:officer-2", details={"reviewed_entry_id": pending[0]["entry_id"]})
    parts.store.append([review], NOW)
    assert queries.overrides_pending(parts.store) == pending[1:]
    assert queries.overrides_pending(parts.store, EntryFilter(recipient=pending[1]["recipient"]))[0] == pending[1]


def test_csv_export(parts: AuditParts) -> None:
    docs = queries.refusals(parts.store)
    lines = queries.to_csv(docs).splitlines()
    assert lines[0].startswith("ledger_seq,entry_id,kind,occurred_at,actor,")
    assert len(lines) == len(docs) + 1
    assert ",REFUSAL," in lines[1] and "category;district" in lines[1]


def test_evidence_bundle_verifies_offline_and_detects_tampering(parts: AuditParts) -> None:
    rows = parts.store.find(EntryFilter(subject_ref=SUBJECT))
    bundle = json.loads(json.dumps(export_bundle(parts.checkpointer, rows, {"subject": SUBJECT})))
    parts.engine.dispose()  # offline from here on: only the bundle and, optionally, the trusted key
    assert verify_bundle(bundle).ok
    assert verify_bundle(bundle, parts.signer.public_key).ok
    assert verify_bundle(bundle).entries == len(rows) > 0

    def tampered(change: Any) -> str:
        b = copy.deepcopy(bundle)
        change(b)
        result = verify_bundle(b, parts.signer.public_key)
        assert not result.ok
        return result.problem or ""

    assert "not included" in tampered(
        lambda b: b["entries"][0].update(entry=b["entries"][0]["entry"].replace('"kind":"', '"kind":"X'))
    )
    assert "not included" in tampered(lambda b: b["entries"][-1]["inclusion_proof"].reverse())
    assert "position" in tampered(lambda b: b["entries"][0].update(ledger_seq=b["entries"][0]["ledger_seq"] + 1))
    assert "invalid signature" in tampered(lambda b: b["tree_head"].update(tree_size=b["tree_head"]["tree_size"] + 1))
    other = Signer(Ed25519PrivateKey.generate())
    assert "other than the trusted" in tampered(lambda b: b.update(public_key_pem=public_key_pem(other.public_key)))
    assert "malformed" in tampered(lambda b: b.pop("tree_head"))
    assert len(bundle["entries"]) > 1
    assert "manifest signature" in tampered(lambda b: b["entries"].pop(0))  # a genuine entry, quietly dropped
    assert "manifest signature" in tampered(lambda b: b["selection"].update(subject="subj-someone-else"))
    assert "malformed" in tampered(lambda b: b.pop("manifest_signature"))


def test_erased_key_bytes_are_gone_from_the_sqlite_files(tmp_path: Path) -> None:
    parts = initialised_audit(HubSettings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'l.db'}"))
    parts.vault.store(routed_case(SUBJECT))
    from eahub.audit.tables import vault_keys

    with parts.engine.connect() as conn:
        wrapped = bytes(conn.execute(vault_keys.select()).one().wrapped_key)

    def on_disk() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.glob("l.db*"))

    assert wrapped in on_disk()
    parts.vault.erase(SUBJECT)
    parts.engine.dispose()
    assert wrapped not in on_disk()


def test_a_batch_of_cases_is_sealed_in_one_go_once_each_under_each_subjects_key(parts: AuditParts) -> None:
    other_subject = audit_entry(4)["subject_ref"]
    first = routed_case(SUBJECT)
    assert parts.vault.store(first)
    batch = [routed_case(SUBJECT, recipient="nwas"), first, routed_case(other_subject),
             routed_case(other_subject, recipient="nwas", override=True)]
    batch.append(batch[0])  # repeated within the batch (a redelivery)
    assert parts.vault.store_many(batch) == 3
    assert parts.vault.store_many(batch) == 0
    mine, theirs = parts.vault.payloads(SUBJECT), parts.vault.payloads(other_subject)
    assert sorted(p.case_id for p in mine) == sorted({first["case_id"], batch[0]["case_id"]})
    assert [p.record for p in mine if p.case_id == batch[0]["case_id"]] == [batch[0]]
    assert sorted(p.kind for p in theirs) == ["DISCLOSURE", "OVERRIDE"] and all(p.record for p in theirs)
    from eahub.audit.tables import vault_keys

    with parts.engine.connect() as conn:
        subjects = [k.subject_ref for k in conn.execute(vault_keys.select())]
    assert sorted(subjects) == sorted([SUBJECT, other_subject])  # one key per subject, reused by the batch
