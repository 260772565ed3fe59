"""The one retry helper of the hub: exponential backoff with jitter (tenacity), waiting on the service's stop
event so that a stop cuts any wait short, and telling a stop apart from an exhausted bound.

    retry(publish, transient=lambda e: isinstance(e, DeliveryFailed), stop=stop)          # until it works
    retry(decide, transient=..., stop=stop, attempts=5)  # then the last error is raised: the caller parks

A stop during the retries raises `StopRequested` (the caller leaves its batch uncommitted, to be read again);
an error that is not transient is raised at once; after `attempts` the last transient error is raised."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_never,
    stop_when_event_set,
    wait_exponential_jitter,
)

T = TypeVar("T")


class StopRequested(Exception):
    """A stop arrived while work was waiting to be retried: abandon it (uncommitted), never park or drop it."""


def retry(
    action: Callable[[], T],
    *,
    transient: Callable[[BaseException], bool],
    stop: threading.Event,
    attempts: int | None = None,
    first_delay_s: float = 0.2,
    max_delay_s: float = 5.0,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Run `action` until it returns; retry transient errors with backoff and jitter, at most `attempts` times
    in all (None: until it works or a stop arrives). `on_retry(attempt, error, delay_s)` is called before each wait."""
    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            error = state.outcome.exception()
            if error is not None:
                delay = state.next_action.sleep if state.next_action is not None else 0.0
                on_retry(state.attempt_number, error, delay)

    def sleep(seconds: float) -> None:
        stop.wait(seconds)  # returns early when a stop arrives; stop_when_event_set then ends the retries

    retrying = Retrying(
        retry=retry_if_exception(transient),
        stop=(stop_after_attempt(attempts) if attempts is not None else stop_never) | stop_when_event_set(stop),
        wait=wait_exponential_jitter(multiplier=first_delay_s, max=max_delay_s, jitter=first_delay_s),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )
    try:
        return retrying(action)
    except BaseException as exc:
        if stop.is_set() and transient(exc):
            raise StopRequested from exc
        raise
