"""Verification over the in-memory ledger adapter (the SQL adapters get the full mutation suite in
tests/integration/test_audit_tamper.py), the checkpointer's refusal to sign over an altered ledger,
and the audit settings read from the environment."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eahub.audit import entry_format, merkle
from eahub.audit.checkpoints import Checkpointer, LedgerCorrupt
from eahub.audit.memory_store import InMemoryLedgerStore
from eahub.audit.settings import DAY_MS, AuditSettings
from eahub.audit.signing import Signer
from eahub.audit.verified_state import CHUNK, ChunkedRowDigest, RowDigest, StateUnusable, load_state, save_state
from eahub.audit.verify import verify_ledger
from tests.unit.test_audit_entries import entries

pytestmark = pytest.mark.unit
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture
def ledger(tmp_path: Path) -> tuple[InMemoryLedgerStore, Checkpointer]:
    store = InMemoryLedgerStore()
    checkpointer = Checkpointer(store, Signer.from_data_dir(tmp_path), clock_ms=lambda: 1)
    batch = entries(300)
    for i in range(0, 300, 50):
        store.append(batch[i : i + 50], NOW)
        checkpointer.checkpoint()
    return store, checkpointer


def test_intact(ledger: tuple[InMemoryLedgerStore, Checkpointer]) -> None:
    store, cp = ledger
    result = verify_ledger(store, cp.signer.public_key)
    assert result.ok and (result.size, result.tree_heads) == (300, 6)
    assert result.root_hash == merkle.MerkleTree([r.leaf_hash for r in store.entries]).root().hex()


def test_modified_deleted_reordered_on_the_memory_adapter(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, cp = ledger
    original = list(store.entries)
    store.entries[120] = dataclasses.replace(original[120], entry=original[120].entry.replace(b"router", b"x"))
    assert verify_ledger(store, cp.signer.public_key).first_bad_seq == 120
    store.entries = original[:77] + original[78:]
    assert verify_ledger(store, cp.signer.public_key).first_bad_seq == 77
    store.entries = [
        *original[:10],
        dataclasses.replace(original[11], seq=10),
        dataclasses.replace(original[10], seq=11),
        *original[12:],
    ]
    result = verify_ledger(store, cp.signer.public_key)
    assert result.first_bad_seq == 10 and "out of place" in result.problem
    store.entries = original[:299]
    result = verify_ledger(store, cp.signer.public_key)
    assert result.first_bad_seq == 299 and "deleted" in result.problem


def test_the_checkpointer_refuses_to_sign_over_an_altered_ledger(
    ledger: tuple[InMemoryLedgerStore, Checkpointer], tmp_path: Path
) -> None:
    store, cp = ledger
    store.append(entries(310)[300:], NOW)
    store.entries[305] = dataclasses.replace(store.entries[305], entry=b"{}")
    fresh = Checkpointer(store, cp.signer)
    with pytest.raises(LedgerCorrupt, match="seq 305"):
        fresh.checkpoint()
    assert store.latest_tree_head().tree_size == 300


def test_nothing_to_sign_when_the_latest_head_covers_the_ledger(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    _, cp = ledger
    assert cp.checkpoint() is None


def test_a_head_is_an_rfc6962_tree_head_signature(ledger: tuple[InMemoryLedgerStore, Checkpointer]) -> None:
    store, cp = ledger
    head = store.latest_tree_head()
    assert head.signed_bytes() == bytes([0, 1]) + (1).to_bytes(8, "big") + (300).to_bytes(8, "big") + head.root_hash
    cp.signer.public_key.verify(head.signature, head.signed_bytes())


def test_canonical_entries_never_hold_more_than_the_audit_entry_fields(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, _ = ledger
    allowed = {*entry_format.entry_fields(), entry_format.SEQ, entry_format.RECORDED_AT}
    assert all(set(r.document()) == allowed for r in store.entries)


def test_audit_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EAHUB_AUDIT_RETENTION_DAYS_DISCLOSURE", "10")
    monkeypatch.setenv("EAHUB_AUDIT_CHECKPOINT_EVERY_ENTRIES", "25")
    s = AuditSettings()
    assert s.retention_ms("DISCLOSURE") == 10 * DAY_MS and s.checkpoint_every_entries == 25
    monkeypatch.setenv("EAHUB_AUDIT_CHECKPOINT_EVERY_ENTRIES", "0")
    with pytest.raises(ValueError, match="checkpoint_every_entries"):
        AuditSettings()


def test_a_new_checkpointer_resumes_from_the_signed_head_and_stores_tiles(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, cp = ledger
    assert sorted(store.tile_roots) == [0]  # 300 entries: one full 256-leaf block
    assert store.tile_roots[0] == merkle.MerkleTree([r.leaf_hash for r in store.entries[:256]]).root()
    store.tile_roots.clear()
    store.append(entries(600)[300:], NOW)
    fresh = Checkpointer(store, cp.signer)
    head = fresh.checkpoint()
    assert head is not None and head.tree_size == 600
    assert sorted(store.tile_roots) == [0, 1]  # the missing tile was backfilled on resume
    assert verify_ledger(store, cp.signer.public_key).ok


def test_resuming_over_leaf_hashes_that_no_longer_match_the_signed_head_fails(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, cp = ledger
    store.entries[10] = dataclasses.replace(store.entries[10], leaf_hash=b"\x00" * 32)
    with pytest.raises(LedgerCorrupt, match="signed root at size 300"):
        Checkpointer(store, cp.signer).sync()


def test_the_row_digest_does_not_depend_on_batches_and_sees_every_column(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, _ = ledger
    rows = [row for batch in store.scan() for row in batch]
    whole, split = RowDigest(), RowDigest()
    whole.update(rows)
    for i in range(0, len(rows), 7):
        split.update(rows[i : i + 7])
    assert whole.digest() == split.digest()
    for column in range(len(rows[0])):
        changed = [*rows]
        changed[5] = (*changed[5][:column], _other(changed[5][column]), *changed[5][column + 1 :])
        other = RowDigest()
        other.update(changed)
        assert other.digest() != whole.digest(), column


def test_the_chunked_row_digest_is_the_same_in_one_pass_or_in_parts_digested_apart(
    ledger: tuple[InMemoryLedgerStore, Checkpointer],
) -> None:
    store, _ = ledger
    rows = [row for batch in store.scan() for row in batch]
    whole, split, first, second = (ChunkedRowDigest() for _ in range(4))
    whole.update(rows)
    for i in range(0, len(rows), 7):
        split.update(rows[i : i + 7])
    first.update(rows[:CHUNK])
    second.update(rows[CHUNK:])
    first.add_chunks(second.chunk_digests())
    assert whole.digest() == split.digest() == first.digest()
    assert len(whole.chunk_digests()) == 2  # 300 rows: one full chunk and a partial one
    changed = ChunkedRowDigest()
    changed.update([*rows[:CHUNK + 5], (*rows[CHUNK + 5][:-1], b"x" * 32), *rows[CHUNK + 6 :]])
    assert changed.digest() != whole.digest()
    with pytest.raises(ValueError, match="partial chunk"):
        second.add_chunks([])


def test_an_incremental_verification_needs_a_record_signed_by_the_hub(
    ledger: tuple[InMemoryLedgerStore, Checkpointer], tmp_path: Path
) -> None:
    store, cp = ledger
    state = verify_ledger(store, cp.signer.public_key).state
    assert state is not None and state.tree_size == 300
    path = tmp_path / "verified.json"
    save_state(path, state, cp.signer)
    assert load_state(path, cp.signer.public_key) == state
    assert load_state(tmp_path / "none.json", cp.signer.public_key) is None
    with pytest.raises(StateUnusable, match="another key"):
        load_state(path, Signer.from_data_dir(tmp_path / "other").public_key)
    path.write_text(path.read_text().replace('"verified_at_ms": ', '"verified_at_ms": 1'))
    with pytest.raises(StateUnusable, match="not signed"):
        load_state(path, cp.signer.public_key)


def test_a_record_of_an_earlier_format_is_not_used(
    ledger: tuple[InMemoryLedgerStore, Checkpointer], tmp_path: Path
) -> None:
    store, cp = ledger
    state = verify_ledger(store, cp.signer.public_key).state
    assert state is not None
    path = tmp_path / "verified.json"
    save_state(path, state, cp.signer)
    doc = json.loads(path.read_text())
    for earlier in (None, 2):  # written before the rows digest changed: genuine, but its digest is not comparable
        if earlier is None:
            del doc["format"]
        else:
            doc["format"] = earlier
        path.write_text(json.dumps(doc))
        with pytest.raises(StateUnusable, match="earlier format"):
            load_state(path, cp.signer.public_key)


def _other(value: object) -> object:
    if isinstance(value, bytes | int):
        return value + (b"x" if isinstance(value, bytes) else 1)  # type: ignore[operator]
    return "x" if value is None else f"{value}x"
