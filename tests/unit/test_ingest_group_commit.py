"""Group commit of the idempotency writes: concurrent writes share transactions, each caller gets its own
result only once committed, and one failing write never fails the writes beside it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from eahub.core.database import make_engine
from eahub.ingest.group_commit import GroupCommit


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
    yield engine
    engine.dispose()


def run_concurrently(writes: GroupCommit, works: list[Any]) -> list[Any]:
    results: list[Any] = [None] * len(works)
    start = threading.Barrier(len(works))

    def call(i: int) -> None:
        start.wait()
        try:
            results[i] = writes.run(works[i])
        except Exception as exc:  # the test looks at it
            results[i] = exc

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(works))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def insert(n: int) -> Any:
    def work(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (n) VALUES (:n)"), {"n": n})
        return n
    return work


def test_concurrent_writes_share_transactions_and_all_commit(engine: Any) -> None:
    commits = []
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    results = run_concurrently(GroupCommit(engine.begin), [insert(n) for n in range(40)])
    assert results == list(range(40))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 40
    assert len(commits) < 40  # some transactions held several writes


def test_a_failing_write_fails_alone(engine: Any) -> None:
    def fails(conn: Connection) -> int:
        conn.execute(text("INSERT INTO t (n) VALUES (1000)"))
        raise ValueError("this write is refused")

    works = [insert(n) for n in range(20)]
    works[7] = fails
    results = run_concurrently(GroupCommit(engine.begin), works)
    assert isinstance(results[7], ValueError)
    assert [r for i, r in enumerate(results) if i != 7] == [n for n in range(20) if n != 7]
    with engine.connect() as conn:
        rows = {n for (n,) in conn.execute(text("SELECT n FROM t"))}
    assert rows == set(range(20)) - {7}  # nothing of the failed write, everything of the others


def test_a_lone_write_returns_its_result(engine: Any) -> None:
    assert GroupCommit(engine.begin).run(insert(5)) == 5


def test_a_deferred_write_rides_along_without_waiting_and_a_lone_one_commits_at_once(engine: Any) -> None:
    writes = GroupCommit(engine.begin)
    writes.defer(insert(1))  # nobody writing: committed before defer returns
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 1
    inside, release = threading.Event(), threading.Event()

    def slow(conn: Connection) -> int:
        inside.set()
        release.wait(10)
        return insert(2)(conn)

    leader = threading.Thread(target=writes.run, args=(slow,))
    leader.start()
    assert inside.wait(10)
    writes.defer(insert(3))  # returns while the leader's transaction is still open
    release.set()
    leader.join(10)
    with engine.connect() as conn:  # the leader led the deferred write's transaction too: nobody else waits
        assert {n for (n,) in conn.execute(text("SELECT n FROM t"))} == {1, 2, 3}


def test_concurrent_deferred_and_awaited_writes_all_commit_before_their_callers_are_done(engine: Any) -> None:
    writes = GroupCommit(engine.begin)
    start = threading.Barrier(40)

    def call(n: int) -> None:
        start.wait()
        if n % 2:
            writes.run(insert(n))
        else:
            writes.defer(insert(n))

    threads = [threading.Thread(target=call, args=(n,)) for n in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with engine.connect() as conn:  # a deferred write queued last is led by the caller that found it queued
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 40
