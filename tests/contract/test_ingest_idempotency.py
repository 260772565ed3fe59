"""One contract suite for the idempotency records port, run against the in-memory adapter and the
SQL adapter on SQLite and PostgreSQL; plus the claim logic over each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from eahub.core.database import make_engine
from eahub.ingest.idempotency import (
    DONE,
    PENDING,
    Idempotency,
    IdempotencyRecords,
    IdempotencyRow,
    InMemoryIdempotencyRecords,
    Outcome,
    SqlIdempotencyRecords,
    create_tables,
)
from eahub.ingest.idempotency_sqlite import SqliteIdempotencyRecords

pytestmark = pytest.mark.contract
EID = "0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4e"


@pytest.fixture(params=["memory", "sqlite-driver", "sqlite", "postgres"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> IdempotencyRecords:
    if request.param == "memory":
        return InMemoryIdempotencyRecords()
    if request.param.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    else:
        request.applymarker(pytest.mark.postgres)
        engine = make_engine(request.getfixturevalue("postgres_url"))
    create_tables(engine)  # as `eahub init` does; the records themselves never run DDL
    return SqliteIdempotencyRecords(engine) if request.param == "sqlite-driver" else SqlIdempotencyRecords(engine)


def row(token: str = "t1", digest: str = "h1", at: int = 1000) -> IdempotencyRow:
    return IdempotencyRow(EID, digest, "lancashire-police", PENDING, token, at)


def test_insert_once_then_refuse(records: IdempotencyRecords) -> None:
    assert records.get(EID) is None
    assert records.insert_pending(row())
    assert not records.insert_pending(row(token="t2", digest="h2"))
    assert records.get(EID) == row()


def test_take_over_only_with_current_token(records: IdempotencyRecords) -> None:
    records.insert_pending(row())
    assert not records.take_over(EID, "wrong", "t2", 5000)
    assert records.take_over(EID, "t1", "t2", 5000)
    got = records.get(EID)
    assert got is not None and (got.claim_token, got.claimed_at_ms) == ("t2", 5000)
    assert not records.take_over(EID, "t1", "t3", 6000)


def test_complete_is_idempotent_and_final(records: IdempotencyRecords) -> None:
    records.insert_pending(row())
    records.complete(EID, 2000)
    records.complete(EID, 3000)
    got = records.get(EID)
    assert got is not None and (got.state, got.completed_at_ms) == (DONE, 2000)
    records.release(EID, "t1")  # a done row is never released
    assert not records.take_over(EID, "t1", "t2", 9000)
    assert records.get(EID) is not None


def test_release_only_own_pending_claim(records: IdempotencyRecords) -> None:
    records.insert_pending(row())
    records.release(EID, "other")
    assert records.get(EID) is not None
    records.release(EID, "t1")
    assert records.get(EID) is None
    assert records.insert_pending(row(token="t2"))


def test_claim_logic(records: IdempotencyRecords) -> None:
    idem = Idempotency(records, lease_ms=10_000)
    first = idem.claim(EID, "h1", "lancashire-police", 1000)
    assert first.outcome is Outcome.NEW
    assert idem.claim(EID, "h1", "lancashire-police", 2000).outcome is Outcome.IN_PROGRESS
    assert idem.claim(EID, "h2", "lancashire-police", 2000).outcome is Outcome.CONFLICT
    assert idem.claim(EID, "h1", "nwas", 2000).outcome is Outcome.CONFLICT
    idem.complete(EID, 3000)
    assert idem.claim(EID, "h1", "lancashire-police", 4000).outcome is Outcome.DONE
    assert idem.claim(EID, "h2", "lancashire-police", 4000).outcome is Outcome.CONFLICT


def test_failed_publish_releases_so_a_retry_publishes(records: IdempotencyRecords) -> None:
    idem = Idempotency(records, lease_ms=10_000)
    claim = idem.claim(EID, "h1", "lancashire-police", 1000)
    idem.release(EID, claim.token)
    assert idem.claim(EID, "h1", "lancashire-police", 1001).outcome is Outcome.NEW


def test_crash_after_claim_is_taken_over_after_the_lease(records: IdempotencyRecords) -> None:
    idem = Idempotency(records, lease_ms=10_000)
    crashed = idem.claim(EID, "h1", "lancashire-police", 1000)  # then the process died: never completed
    assert idem.claim(EID, "h1", "lancashire-police", 10_999).outcome is Outcome.IN_PROGRESS
    retry = idem.claim(EID, "h1", "lancashire-police", 11_000)
    assert retry.outcome is Outcome.NEW and retry.token != crashed.token
    idem.release(EID, crashed.token)  # the crashed claim's late release must not undo the retry's claim
    assert idem.claim(EID, "h1", "lancashire-police", 11_001).outcome is Outcome.IN_PROGRESS


def test_concurrent_claims_have_exactly_one_winner(records: IdempotencyRecords) -> None:
    idem = Idempotency(records, lease_ms=10_000)
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(8)

    def contender() -> None:
        barrier.wait()
        outcomes.append(idem.claim(EID, "h1", "lancashire-police", 1000).outcome)

    run_all([contender] * 8)
    assert sorted(o.value for o in outcomes) == ["in-progress"] * 7 + ["new"]


def run_all(functions: list[Callable[[], None]]) -> None:
    threads = [threading.Thread(target=f) for f in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@pytest.mark.parametrize("adapter", [SqliteIdempotencyRecords, SqlIdempotencyRecords])
def test_sqlite_records_are_shared_by_processes_and_survive_a_restart(
        adapter: Callable[..., IdempotencyRecords], tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    create_tables(make_engine(url))
    first, second = (Idempotency(adapter(make_engine(url)), lease_ms=10_000) for _ in range(2))  # two workers
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(8)

    def contender(idem: Idempotency) -> Callable[[], None]:
        def claim() -> None:
            barrier.wait()
            outcomes.append(idem.claim(EID, "h1", "lancashire-police", 1000).outcome)
        return claim

    run_all([contender(first), contender(second)] * 4)
    assert sorted(o.value for o in outcomes) == ["in-progress"] * 7 + ["new"]
    first.complete(EID, 2000)
    restarted = Idempotency(adapter(make_engine(url)), lease_ms=10_000)
    assert restarted.claim(EID, "h1", "lancashire-police", 3000).outcome is Outcome.DONE
    assert restarted.claim(EID, "h2", "lancashire-police", 3000).outcome is Outcome.CONFLICT
