"""One contract suite for the ledger store port, run against the in-memory adapter and the SQL adapter
on SQLite and PostgreSQL; plus the database's own refusal of UPDATE and DELETE on the ledger tables."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from eahub.audit import entry_format, merkle
from eahub.audit.memory_store import InMemoryLedgerStore
from eahub.audit.signing import Signer
from eahub.audit.store import EntryFilter, LedgerStore
from eahub.core.database import make_engine
from tests.helpers import ledger_store
from tests.unit.test_audit_entries import T0, audit_entry, entries

pytestmark = pytest.mark.contract
NOW = datetime(2026, 5, 2, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LedgerStore:
    if request.param == "memory":
        return InMemoryLedgerStore()
    if request.param == "sqlite":
        return ledger_store(make_engine(f"sqlite:///{tmp_path / 'ledger.db'}"))
    request.applymarker(pytest.mark.postgres)
    return ledger_store(make_engine(request.getfixturevalue("postgres_url")))


def test_appends_at_consecutive_positions_from_zero(store: LedgerStore) -> None:
    assert store.size() == 0
    first = store.append(entries(3), NOW)
    second = store.append(entries(5)[3:], NOW)
    assert [r.seq for r in first + second] == [0, 1, 2, 3, 4]
    assert store.size() == 5
    assert [r.seq for r in store.rows()] == [0, 1, 2, 3, 4]
    assert [r.seq for r in store.rows(1, 3)] == [1, 2]
    assert [row for batch in store.scan() for row in batch] == [tuple(r.__dict__.values()) for r in store.rows()]


def test_scan_reads_a_range_of_positions(store: LedgerStore) -> None:
    store.append(entries(6), NOW)
    def seqs(start: int | None, end: int | None) -> list[int]:
        return [row[0] for batch in store.scan(start, end) for row in batch]
    assert seqs(2, 5) == [2, 3, 4]
    assert seqs(None, 2) == [0, 1]
    assert seqs(4, None) == [4, 5]
    assert seqs(6, None) == [] and seqs(3, 3) == []
    [row] = store.rows(1, 2)
    assert [r for batch in store.scan(1, 2) for r in batch] == [tuple(row.__dict__.values())]


def test_stored_entry_is_the_canonical_document_and_its_leaf_hash(store: LedgerStore) -> None:
    e = audit_entry(1)
    [row] = store.append([e], NOW)
    assert row.entry == entry_format.encode(entry_format.canonical_document(e, 0, NOW))
    assert row.leaf_hash == merkle.leaf_hash(row.entry)
    got = store.get(e["entry_id"])
    assert got == row
    assert got.document()["ledger_recorded_at"] == "2026-05-02T00:00:00.000Z"
    assert store.leaf_hashes(0, 1) == [row.leaf_hash]


def test_a_replayed_entry_is_ignored_not_appended_twice(store: LedgerStore) -> None:
    batch = entries(4)
    store.append(batch, NOW)
    assert store.append([batch[2], batch[0]], NOW) == []
    again = store.append([batch[1], audit_entry(99), audit_entry(99)], NOW)  # a duplicate inside one batch too
    assert [r.entry_id for r in again] == [audit_entry(99)["entry_id"]]
    assert store.size() == 5


def test_find_filters_by_every_indexed_field_and_time(store: LedgerStore) -> None:
    store.append(entries(40), NOW)
    docs = {r.entry_id: r.document() for r in store.rows()}
    subject = audit_entry(3)["subject_ref"]
    checks = {
        EntryFilter(subject_ref=subject): lambda d: d["subject_ref"] == subject,
        EntryFilter(event_id="event-2"): lambda d: d["event_id"] == "event-2",
        EntryFilter(kinds=("REFUSAL", "OVERRIDE")): lambda d: d["kind"] in ("REFUSAL", "OVERRIDE"),
        EntryFilter(isa_id="isa-police-nwas"): lambda d: d["isa_id"] == "isa-police-nwas",
        EntryFilter(source_agency="lancashire-police", recipient="nwas"): lambda d: d["recipient"] == "nwas",
        EntryFilter(
            since_ms=entry_format.to_ms(T0 + timedelta(minutes=10)),
            until_ms=entry_format.to_ms(T0 + timedelta(minutes=20)),
        ): lambda d: "2026-05-01T15:10" <= d["occurred_at"] < "2026-05-01T15:20",
    }
    for flt, expected in checks.items():
        found = [r.entry_id for r in store.find(flt)]
        assert found == [i for i, d in docs.items() if expected(d)], flt
        assert found


def test_tree_heads_are_kept_by_size_and_a_second_head_for_a_size_is_ignored(
    store: LedgerStore, tmp_path: Path
) -> None:
    signer = Signer.from_data_dir(tmp_path)
    assert store.latest_tree_head() is None and store.tree_heads() == []
    h5 = signer.sign(5, b"\x05" * 32, 1000)
    h2 = signer.sign(2, b"\x02" * 32, 900)
    store.add_tree_head(h5)
    store.add_tree_head(h2)
    store.add_tree_head(signer.sign(5, b"\x55" * 32, 2000))
    assert store.tree_heads() == [h2, h5]
    assert store.latest_tree_head() == h5


def test_concurrent_appenders_never_share_a_position(store: LedgerStore) -> None:
    def work(offset: int) -> None:
        for i in range(5):
            store.append([audit_entry(offset + i * 10 + j) for j in range(10)], NOW)

    threads = [threading.Thread(target=work, args=(t * 1000,)) for t in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rows = list(store.rows())
    assert [r.seq for r in rows] == list(range(150))
    assert all(r.document()["ledger_seq"] == r.seq for r in rows)


@pytest.mark.integration
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_ledger SET kind = 'ERASURE' WHERE seq = 1",
        "DELETE FROM audit_ledger WHERE seq = 1",
        "UPDATE audit_tree_heads SET root_hash = 'ff' WHERE tree_size = 3",
        "DELETE FROM audit_tree_heads",
    ],
)
def test_the_database_rejects_update_and_delete_on_ledger_tables(
    database_url: str, tmp_path: Path, statement: str
) -> None:
    store = ledger_store(make_engine(database_url))
    store.append(entries(3), NOW)
    store.add_tree_head(Signer.from_data_dir(tmp_path).sign(3, b"\x00" * 32, 1))
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(statement))
    assert store.size() == 3 and len(store.tree_heads()) == 1


@pytest.mark.integration
@pytest.mark.postgres
def test_postgres_also_rejects_truncate(postgres_url: str) -> None:
    store = ledger_store(make_engine(postgres_url))
    store.append(entries(2), NOW)
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text("TRUNCATE audit_ledger"))
    assert store.size() == 2


def test_tiles_are_kept_by_index_and_read_as_a_contiguous_prefix(store: LedgerStore) -> None:
    store.add_tiles([(0, b"\x00" * 32), (1, b"\x01" * 32), (3, b"\x03" * 32)])
    store.add_tiles([(1, b"\xff" * 32)])  # already stored: left as it is
    assert store.tiles(5) == [b"\x00" * 32, b"\x01" * 32]
    assert store.tiles(1) == [b"\x00" * 32]
    store.add_tiles([(2, b"\x02" * 32)])
    assert store.tiles(5) == [bytes([i]) * 32 for i in range(4)]
