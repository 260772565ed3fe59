"""Group commit: the writes that concurrent requests ask for at about the same time go to the database in ONE
transaction, on one connection, instead of one transaction each racing for SQLite's single write lock (whose
busy handler sleeps 1-100 ms per retry). No background thread: the first caller to find nobody writing commits
everything queued by then; meanwhile new writes queue up, and the first of them leads the next transaction.
Each caller returns only once the transaction holding its write has committed, except a deferred write's
(`defer`: marking an acknowledged event done), which rides along in the next transaction. If a shared
transaction fails, each of its writes is tried again alone, so one write's failure is never another's."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Generic, TypeVar

from eahub.core.logging import get_logger

log = get_logger("eahub.ingest")
T = TypeVar("T")
C = TypeVar("C")  # what a transaction hands each write: a SQLAlchemy Connection, a sqlite3 connection


class _Write(Generic[C, T]):
    def __init__(self, work: Callable[[C], T], awaited: bool = True) -> None:
        self.work, self.awaited = work, awaited
        self.wake = threading.Event()
        self.result: T | None = None
        self.error: BaseException | None = None
        self.finished = False

    def finish(self, result: T | None, error: BaseException | None) -> None:
        self.result, self.error, self.finished = result, error, True
        if error is not None and not self.awaited:  # nobody is told otherwise; the type only (no values)
            log.warning("group_commit.deferred_write_failed", error=type(error).__name__)
        self.wake.set()


class GroupCommit(Generic[C]):
    """`begin()`: a transaction, committed when its block ends and rolled back when it raises (`Engine.begin`)."""

    def __init__(self, begin: Callable[[], AbstractContextManager[C]]) -> None:
        self._begin = begin
        self._lock = threading.Lock()
        self._queue: list[_Write[C, object]] = []
        self._writing = False

    def run(self, work: Callable[[C], T]) -> T:
        """`work(connection)` inside a transaction shared with the writes queued beside it; its result once
        committed, or its exception (the transaction's, when it failed even alone)."""
        write: _Write[C, T] = _Write(work)
        with self._lock:
            self._queue.append(write)  # type: ignore[arg-type]
            if not self._writing:
                self._writing = True
                write.wake.set()
        write.wake.wait()
        if not write.finished:  # woken to lead the next transaction (which holds this write too)
            self._lead()
        if write.error is not None:
            raise write.error
        return write.result  # type: ignore[return-value]

    def defer(self, work: Callable[[C], object]) -> None:
        """`work(connection)` in the next transaction, without waiting for its commit when another caller is
        writing (it rides along in the transaction that caller leads next); when nobody is, this caller commits
        it at once. A failure is logged, as nobody awaits it."""
        with self._lock:
            self._queue.append(_Write(work, awaited=False))
            if self._writing:
                return
            self._writing = True
        self._lead()

    def _lead(self) -> None:
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
            try:
                self._commit(batch)
            except BaseException:
                for w in batch:
                    if not w.finished:  # interrupted: nobody must wait for ever
                        w.finish(None, RuntimeError("the transaction holding this write was interrupted"))
                self._hand_over(lead_again=False)
                raise
            if not self._hand_over(lead_again=True):
                return

    def _hand_over(self, lead_again: bool) -> bool:
        """After a transaction: wake the first waiting write queued meanwhile to lead the next one. When only
        deferred writes are queued, nobody waits to lead them: True tells the caller to (`lead_again`), otherwise
        the next write to come leads them."""
        with self._lock:
            waiting = next((w for w in self._queue if w.awaited), None)
            if waiting is not None:
                waiting.wake.set()
                return False
            if self._queue and lead_again:
                return True
            self._writing = False
            return False

    def _commit(self, batch: list[_Write[C, object]]) -> None:
        try:
            with self._begin() as conn:
                results = [w.work(conn) for w in batch]
        except Exception as exc:
            if len(batch) == 1:
                batch[0].finish(None, exc)
                return
            for w in batch:  # alone, so that one failing write does not fail the others
                self._commit([w])
            return
        for w, result in zip(batch, results, strict=True):
            w.finish(result, None)
