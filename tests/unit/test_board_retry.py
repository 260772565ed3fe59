"""The consumer's database retry: transient errors are retried with backoff, a stop event interrupts the wait,
anything else is raised at once."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from eahub.board.consumer import Stopped, retry_transient

pytestmark = pytest.mark.unit


def _flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise OperationalError("UPDATE", {}, Exception("database is locked"))
        return "stored"

    return calls, action


def test_transient_errors_are_retried() -> None:
    calls, action = _flaky(2)
    assert retry_transient(action, threading.Event(), first_delay_s=0.01) == "stored"  # type: ignore[arg-type]
    assert len(calls) == 3


def test_stop_interrupts_the_backoff() -> None:
    _calls, action = _flaky(10**6)
    stop = threading.Event()
    threading.Timer(0.2, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Stopped):
        retry_transient(action, stop, first_delay_s=0.05, max_delay_s=30)  # type: ignore[arg-type]
    assert time.monotonic() - started < 25  # interrupted, not slept out to the 30 s cap


def test_other_errors_are_raised_at_once() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise IntegrityError("INSERT", {}, Exception("duplicate"))

    with pytest.raises(IntegrityError):
        retry_transient(action, threading.Event())
    assert calls == [1]
