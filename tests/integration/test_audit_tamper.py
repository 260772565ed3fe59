"""Mutation tests: on a ledger of 1,000 entries (signed heads every 100), an attacker with DBA rights
drops the append-only triggers and modifies, deletes, inserts or reorders one entry, or forges a tree
head. Verification must fail and name the place. Positions: first, middle, last, and three random ones.
Runs on SQLite and PostgreSQL, and in both modes: full, and incremental from a verification recorded
when the ledger held 500 entries (so positions before 500 were tampered with before the last verified
head, the others after it)."""

from __future__ import annotations

import dataclasses
import random
import re
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, insert, select, text, update
from structlog.testing import capture_logs

from eahub.audit import entry_format, merkle, verify
from eahub.audit.checkpoints import Checkpointer
from eahub.audit.signing import Signer
from eahub.audit.sql_store import SqlLedgerStore
from eahub.audit.tables import ledger, metadata, tree_heads
from eahub.audit.verified_state import VerifiedState
from eahub.audit.verify import VerifyResult, verify_ledger
from eahub.core.database import is_postgres, make_engine
from tests.helpers import ledger_store
from tests.unit.test_audit_entries import audit_entry, entries

pytestmark = [pytest.mark.integration]

SIZE = 1000
POSITIONS = [0, SIZE // 2, SIZE - 1, *random.Random(62).sample(range(1, SIZE - 1), 3)]
NOW = datetime(2026, 5, 2, tzinfo=UTC)


VERIFIED_AT = 500  # incremental mode: the size of the ledger when the last verification was recorded


class Ledger:
    def __init__(self, store: SqlLedgerStore, signer: Signer, since: VerifiedState | None = None) -> None:
        self.store, self.signer, self.engine, self.since = store, signer, store.engine, since

    def verify(self) -> VerifyResult:
        return verify_ledger(self.engine, self.signer.public_key, since=self.since)

    def row(self, seq: int) -> dict:
        with self.engine.connect() as conn:
            return conn.execute(select(ledger).where(ledger.c.seq == seq)).one()._asdict()


def drop_triggers(engine: Engine) -> None:
    """What an attacker with the owner's or a superuser's rights can do."""
    with engine.begin() as conn:
        for table in ("audit_ledger", "audit_tree_heads"):
            if is_postgres(engine):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}"))
            else:
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))


@pytest.fixture(params=["full", "incremental"])
def make_ledger(database_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], Ledger]]:
    signer = Signer.from_data_dir(tmp_path)
    engines: list[Engine] = []
    counter = iter(range(1000))

    def build() -> Ledger:
        url = database_url
        if url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'ledger-{next(counter)}.db'}"
        engine = make_engine(url)
        engines.append(engine)
        if is_postgres(engine):
            drop_triggers(engine)
            metadata.drop_all(engine)
        store = ledger_store(engine)
        checkpointer = Checkpointer(store, signer, clock_ms=lambda: 1_777_000_000_000)
        batch = entries(SIZE)
        since = None
        for i in range(0, SIZE, 100):
            store.append(batch[i : i + 100], NOW)
            checkpointer.checkpoint()
            if request.param == "incremental" and i + 100 == VERIFIED_AT:
                since = verify_ledger(engine, signer.public_key).state
                assert since is not None and since.tree_size == VERIFIED_AT
        drop_triggers(engine)
        return Ledger(store, signer, since)

    yield build
    for e in engines:
        e.dispose()


def test_an_untouched_ledger_verifies(make_ledger: Callable[[], Ledger]) -> None:
    lg = make_ledger()
    result = lg.verify()
    assert result.ok, result.summary()
    assert (result.size, result.tree_heads, result.covered_size) == (SIZE, 10, SIZE)
    assert result.summary().startswith("ledger intact: 1000 entries, 10 signed tree heads verified")
    assert result.note is None
    assert result.checked_from == (0 if lg.since is None else VERIFIED_AT)
    assert result.state is not None and result.state.tree_size == SIZE
    again = verify_ledger(lg.engine, lg.signer.public_key, since=result.state)  # nothing new: only the digest
    assert again.ok and again.checked_from == SIZE and again.note is None, again.summary()
    assert again.state is not None and again.state.rows_digest == result.state.rows_digest


def test_modifying_any_entry_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS:
        lg = make_ledger()
        row = lg.row(pos)
        doc = entry_format.decode(row["entry"])
        doc["fields_withheld"] = []  # hide that anything was withheld
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == pos).values(entry=entry_format.encode(doc)))
        result = lg.verify()
        assert not result.ok
        assert (result.first_bad_seq, result.first_bad_entry_id) == (pos, row["entry_id"]), result.summary()
        assert "modified" in result.problem


def test_modifying_an_entry_and_recomputing_its_leaf_hash_is_caught_by_the_signed_heads(
    make_ledger: Callable[[], Ledger],
) -> None:
    for pos in POSITIONS:
        lg = make_ledger()
        doc = entry_format.decode(lg.row(pos)["entry"])
        doc["recipient"] = "somebody-else"
        data = entry_format.encode(doc)
        with lg.engine.begin() as conn:
            conn.execute(
                update(ledger)
                .where(ledger.c.seq == pos)
                .values(entry=data, leaf_hash=merkle.leaf_hash(data), recipient="somebody-else")
            )
        result = lg.verify()
        assert not result.ok and "altered" in result.problem
        lo, hi = map(int, re.search(r"seq (\d+)\.\.(\d+)", result.problem).groups())
        assert lo <= pos <= hi and hi - lo < 100 and result.first_bad_seq == lo, result.summary()


def test_an_occurred_at_that_is_not_a_timestamp_is_named_not_a_crash(make_ledger: Callable[[], Ledger]) -> None:
    for pos in (3, SIZE - 1):
        lg = make_ledger()
        row = lg.row(pos)
        doc = entry_format.decode(row["entry"])
        doc["occurred_at"] = "the day before yesterday"
        data = entry_format.encode(doc)
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == pos).values(entry=data, leaf_hash=merkle.leaf_hash(data)))
        result = lg.verify()
        assert not result.ok
        assert (result.first_bad_seq, result.first_bad_entry_id) == (pos, row["entry_id"]), result.summary()
        assert result.problem == "modified: occurred_at in the hashed entry is not a timestamp"


def test_relabelling_an_indexed_column_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS[:3]:
        lg = make_ledger()
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == pos).values(subject_ref="subj-someone-else"))
        result = lg.verify()
        assert not result.ok and result.first_bad_seq == pos
        assert "column subject_ref" in result.problem


def test_deleting_any_entry_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS:
        lg = make_ledger()
        with lg.engine.begin() as conn:
            conn.execute(delete(ledger).where(ledger.c.seq == pos))
        result = lg.verify()
        assert not result.ok and result.first_bad_seq == pos, result.summary()
        assert "missing" in result.problem


def test_deleting_an_entry_and_renumbering_the_rest_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS:
        lg = make_ledger()
        with lg.engine.begin() as conn:
            conn.execute(delete(ledger).where(ledger.c.seq == pos))
            for seq in range(pos + 1, SIZE):
                conn.execute(update(ledger).where(ledger.c.seq == seq).values(seq=seq - 1))
        result = lg.verify()
        assert not result.ok and result.first_bad_seq == pos, result.summary()


def test_inserting_an_entry_anywhere_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS:
        lg = make_ledger()
        forged = audit_entry(5000, "DISCLOSURE", reasons=["backdated"])
        data = entry_format.encode(entry_format.canonical_document(forged, pos, NOW))
        with lg.engine.begin() as conn:
            for seq in range(SIZE - 1, pos - 1, -1):
                conn.execute(update(ledger).where(ledger.c.seq == seq).values(seq=seq + 1))
            doc = entry_format.decode(data)
            conn.execute(
                insert(ledger).values(
                    seq=pos,
                    entry=data,
                    leaf_hash=merkle.leaf_hash(data),
                    occurred_at_ms=entry_format.to_ms(forged["occurred_at"]),
                    **{
                        k: doc[k]
                        for k in (
                            "entry_id",
                            "kind",
                            "event_id",
                            "subject_ref",
                            "source_agency",
                            "recipient",
                            "isa_id",
                            "case_id",
                        )
                    },
                )
            )
        result = lg.verify()
        assert not result.ok, result.summary()
        assert (result.first_bad_seq, result.first_bad_entry_id) == (pos, forged["entry_id"]), result.summary()
        assert "inserted" in result.problem


def test_reordering_two_entries_is_named(make_ledger: Callable[[], Ledger]) -> None:
    for pos in POSITIONS:
        a, b = (pos, pos + 1) if pos < SIZE - 1 else (pos - 1, pos)
        lg = make_ledger()
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == a).values(seq=-1))
            conn.execute(update(ledger).where(ledger.c.seq == b).values(seq=a))
            conn.execute(update(ledger).where(ledger.c.seq == -1).values(seq=b))
        result = lg.verify()
        assert not result.ok and result.first_bad_seq == a, result.summary()
        assert "out of place" in result.problem


def test_forging_a_tree_head_is_named(make_ledger: Callable[[], Ledger], tmp_path: Path) -> None:
    lg = make_ledger()
    with lg.engine.begin() as conn:
        conn.execute(update(tree_heads).where(tree_heads.c.tree_size == 500).values(root_hash="ab" * 32))
    result = lg.verify()
    assert not result.ok and "size 500" in result.problem and "invalid signature" in result.problem


def test_a_tree_head_signed_by_another_key_is_named(make_ledger: Callable[[], Ledger], tmp_path: Path) -> None:
    lg = make_ledger()
    other = Signer.from_data_dir(tmp_path / "attacker")
    root = merkle.MerkleTree(lg.store.leaf_hashes(0, 300)).root()
    forged = other.sign(300, root, 1).to_json()
    with lg.engine.begin() as conn:
        conn.execute(delete(tree_heads).where(tree_heads.c.tree_size == 300))
        conn.execute(insert(tree_heads).values(**forged))
    result = lg.verify()
    assert not result.ok and "size 300" in result.problem and "not the hub's key" in result.problem


def test_rewriting_everything_under_an_attacker_key_fails_against_the_hubs_key(
    make_ledger: Callable[[], Ledger], tmp_path: Path
) -> None:
    lg = make_ledger()
    attacker = Ledger(lg.store, Signer.from_data_dir(tmp_path / "attacker"))
    assert not verify_ledger(lg.engine, attacker.signer.public_key).ok


def test_a_row_before_the_first_position_is_named(make_ledger: Callable[[], Ledger]) -> None:
    """Rows at negative positions are outside the Merkle tree, yet a query or a SAR would show them."""
    lg = make_ledger()
    row = lg.row(3)
    forged = {**row, "seq": -1, "entry_id": "forged-entry"}
    with lg.engine.begin() as conn:
        conn.execute(insert(ledger).values(**forged))
    result = lg.verify()
    assert not result.ok and result.first_bad_seq == -1 and "inserted" in result.problem, result.summary()


def test_every_tamper_before_the_last_verified_head_sends_an_incremental_run_back_to_a_full_one(
    make_ledger: Callable[[], Ledger],
) -> None:
    """One change to any stored column of an entry verified earlier: the digest differs, the full pass names it."""
    lg = make_ledger()
    if lg.since is None:
        pytest.skip("incremental mode only")
    pos = 123
    for column, value in (("kind", "ACTION"), ("occurred_at_ms", 1), ("case_id", "case-x"), ("leaf_hash", b"x" * 32)):
        before = verify_ledger(lg.engine, lg.signer.public_key, since=lg.since)
        assert before.ok and before.note is None, before.summary()
        original = lg.row(pos)[column]
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == pos).values({column: value}))
        result = lg.verify()
        assert not result.ok and result.first_bad_seq is not None and result.first_bad_seq <= pos, column
        assert "verified in full" in (result.note or ""), result.summary()
        with lg.engine.begin() as conn:
            conn.execute(update(ledger).where(ledger.c.seq == pos).values({column: original}))


def test_truncating_the_ledger_and_its_heads_below_the_last_verified_head_is_named(
    make_ledger: Callable[[], Ledger],
) -> None:
    """The record of the last verification keeps a copy of its signed head outside the database."""
    lg = make_ledger()
    with lg.engine.begin() as conn:
        conn.execute(delete(ledger).where(ledger.c.seq >= 300))
        conn.execute(delete(tree_heads).where(tree_heads.c.tree_size > 300))
    result = lg.verify()
    if lg.since is None:
        assert result.ok  # without a copy of a later head kept elsewhere (--published, --heads) nothing shows it
        return
    assert not result.ok and result.first_bad_seq == 300 and "missing" in result.problem, result.summary()
    assert f"signed for {VERIFIED_AT} entries" in result.problem


@pytest.fixture
def split(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Full verifications split over worker processes whatever the size; records whether each split succeeded."""
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
    outcomes: list[bool] = []
    run = verify._run_workers

    def spy(*args: Any) -> Any:
        parts = run(*args)
        outcomes.append(parts is not None)
        return parts

    monkeypatch.setattr(verify, "_run_workers", spy)
    return outcomes


def test_a_full_verification_split_over_workers_gives_the_one_pass_result(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    lg = make_ledger()
    split.clear()
    parallel = verify_ledger(lg.engine, lg.signer.public_key)
    assert split == [True] and parallel.ok, parallel.summary()
    monkeypatch.setattr(verify, "PARALLEL_FROM", SIZE + 1)
    one_pass = verify_ledger(lg.engine, lg.signer.public_key)
    assert parallel.state is not None and one_pass.state is not None
    assert dataclasses.replace(parallel, state=None) == dataclasses.replace(one_pass, state=None)
    assert (parallel.state.rows_digest, parallel.state.compact_range) == (
        one_pass.state.rows_digest, one_pass.state.compact_range)


def withhold_nothing(lg: Ledger, pos: int, recompute_leaf: bool) -> None:
    """Rewrite entry `pos` as if nothing had been withheld (with its leaf hash recomputed, or left stale)."""
    doc = entry_format.decode(lg.row(pos)["entry"])
    doc["fields_withheld"] = []
    data = entry_format.encode(doc)
    values = {"entry": data, **({"leaf_hash": merkle.leaf_hash(data)} if recompute_leaf else {})}
    with lg.engine.begin() as conn:
        conn.execute(update(ledger).where(ledger.c.seq == pos).values(**values))


def test_a_tampered_row_in_either_half_is_named_as_by_one_pass(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    for pos in (100, 700):  # the halves split at 256
        for recompute_leaf in (False, True):
            lg = make_ledger()
            withhold_nothing(lg, pos, recompute_leaf)
            monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
            found = lg.verify()
            monkeypatch.setattr(verify, "PARALLEL_FROM", SIZE + 1)
            assert not found.ok and found == lg.verify(), found.summary()
            assert ("altered" if recompute_leaf else "modified") in found.problem
            if not recompute_leaf:
                assert found.first_bad_seq == pos


def test_an_incremental_verification_split_over_workers_gives_the_one_pass_result(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    lg = make_ledger()
    if lg.since is None:
        pytest.skip("incremental mode only")
    split.clear()
    parallel = lg.verify()
    assert split == [True] and parallel.ok and parallel.note is None, parallel.summary()
    assert parallel.checked_from == VERIFIED_AT
    monkeypatch.setattr(verify, "PARALLEL_FROM", SIZE + 1)
    one_pass = lg.verify()
    assert parallel.state is not None and one_pass.state is not None
    assert dataclasses.replace(parallel, state=None) == dataclasses.replace(one_pass, state=None)
    assert (parallel.state.rows_digest, parallel.state.compact_range) == (
        one_pass.state.rows_digest, one_pass.state.compact_range)


# (position, DIGEST_WEIGHT): the incremental split (head at 500) falls at 512 with the weight 0.5, at 256 with 4, so
# the tampered row is before or after the last verified head, in the first or the second worker's half.
INCREMENTAL_SPLIT_CASES = [(100, 0.5, 512), (505, 0.5, 512), (700, 0.5, 512), (300, 4.0, 256)]


@pytest.mark.parametrize(("pos", "weight", "middle"), INCREMENTAL_SPLIT_CASES)
def test_a_tampered_row_in_either_half_of_an_incremental_split_is_named_as_by_one_pass(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch,
    pos: int, weight: float, middle: int,
) -> None:
    monkeypatch.setattr(verify, "DIGEST_WEIGHT", weight)
    assert verify._middle(SIZE, VERIFIED_AT) == middle
    for recompute_leaf in (False, True):
        lg = make_ledger()
        if lg.since is None:
            pytest.skip("incremental mode only")
        withhold_nothing(lg, pos, recompute_leaf)
        monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
        split.clear()
        with capture_logs() as logs:
            found = lg.verify()
        assert split, found.summary()  # the split ran (and whatever it found, the one pass named)
        assert not any(e["event"] == "audit.verify_worker_failed" for e in logs), logs
        monkeypatch.setattr(verify, "PARALLEL_FROM", SIZE + 1)
        assert not found.ok and found == lg.verify(), found.summary()
        assert ("altered" if recompute_leaf else "modified") in found.problem
        if not recompute_leaf:
            assert found.first_bad_seq == pos
        if pos < VERIFIED_AT:  # the digest differs: the whole ledger verified, as without the split
            assert "verified in full" in (found.note or ""), found.summary()
            assert split[0]  # the incremental split itself succeeded and showed the rows are not those verified
        else:
            assert found.note is None


def test_a_failing_worker_falls_back_to_one_pass_and_logs_its_exit_code(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    lg = make_ledger()
    monkeypatch.setattr(verify, "_WORKER", [sys.executable, "-c", "raise SystemExit(3)"])
    split.clear()
    with capture_logs() as logs:
        result = lg.verify()
    assert split == [False] and result.ok and result.size == SIZE, result.summary()
    assert result.state is not None and result.state.tree_size == SIZE
    assert result.checked_from == (0 if lg.since is None else VERIFIED_AT) and result.note is None
    failed = [e for e in logs if e["event"] == "audit.verify_worker_failed"]
    assert [(e["log_level"], e["part"], e["exit_code"]) for e in failed] == [("warning", 0, 3), ("warning", 1, 3)]
    assert all(set(e) <= {"event", "log_level", "part", "exit_code", "hint"} for e in failed), failed


def test_a_worker_that_crashes_is_logged_as_failed_not_as_a_finding(
    make_ledger: Callable[[], Ledger], split: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An uncaught exception exits 1, which is not the exit code of a row needing the one pass."""
    lg = make_ledger()
    monkeypatch.setattr(verify, "_WORKER", [sys.executable, "-c", "raise RuntimeError('boom')"])
    with capture_logs() as logs:
        assert lg.verify().ok
    assert [e["exit_code"] for e in logs if e["event"] == "audit.verify_worker_failed"] == [1, 1]
    assert not any(e["event"] == "audit.verify_split_finding" for e in logs)
