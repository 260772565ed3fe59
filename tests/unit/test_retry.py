"""The one retry helper (`eahub.core.retry`): transient errors retried with backoff, a stop cuts the waiting short
(StopRequested), a bound of attempts gives up with the last error, anything else is raised at once."""

from __future__ import annotations

import threading

import pytest

from eahub.core.retry import StopRequested, retry

pytestmark = pytest.mark.unit


class Flaky(Exception):
    pass


def _flaky(failures: int) -> tuple[list[int], object]:
    calls: list[int] = []

    def action() -> str:
        calls.append(1)
        if len(calls) <= failures:
            raise Flaky("not yet")
        return "done"

    return calls, action


def transient(exc: BaseException) -> bool:
    return isinstance(exc, Flaky)


def test_transient_errors_are_retried_until_the_action_works() -> None:
    calls, action = _flaky(3)
    seen: list[int] = []
    assert retry(action, transient=transient, stop=threading.Event(), first_delay_s=0.001,  # type: ignore[arg-type]
                 on_retry=lambda attempt, exc, delay: seen.append(attempt)) == "done"
    assert len(calls) == 4 and seen == [1, 2, 3]


def test_a_bound_gives_up_with_the_last_error() -> None:
    calls, action = _flaky(10)
    with pytest.raises(Flaky):
        retry(action, transient=transient, stop=threading.Event(), attempts=3, first_delay_s=0.001)  # type: ignore[arg-type]
    assert len(calls) == 3


def test_a_stop_during_the_waits_raises_stop_requested() -> None:
    stop = threading.Event()
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        stop.set()  # the stop arrives while this attempt fails: the hour-long wait returns at once
        raise Flaky("broker away")

    with pytest.raises(StopRequested):
        retry(action, transient=transient, stop=stop, first_delay_s=3600, max_delay_s=3600)
    assert calls == [1]


def test_other_errors_are_raised_at_once() -> None:
    calls: list[int] = []

    def action() -> None:
        calls.append(1)
        raise ValueError("a permanent failure")

    with pytest.raises(ValueError, match="permanent"):
        retry(action, transient=transient, stop=threading.Event())
    assert calls == [1]
