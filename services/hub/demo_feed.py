"""The demo's synthetic feed: realistic events, published through the real HTTP ingest API with each
agency's own token, paced at one simulated day per real minute (so the afternoon-to-midnight peak and
the quiet early hours can be seen). Each event is stamped at the real time it is sent. The first day is paced from
its first event, sent at once, so that the demo's first decision does not wait for the simulated clock."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from eahub.core.logging import get_logger
from eahub.ingest.generator import generate, reported_at

log = get_logger("eahub.demo")


def paced(events: Iterator[dict[str, Any]], day_start: datetime, speedup: float,
          stop: threading.Event) -> Iterator[dict[str, Any]]:
    """Yield each event when its simulated time comes, re-stamped to now (occurred_at keeps its lead)."""
    real_start = datetime.now(UTC)
    for event in events:
        reported = datetime.fromisoformat(event["reported_at"])
        due = real_start + (reported - day_start) / speedup
        wait = (due - datetime.now(UTC)).total_seconds()
        if wait > 0 and stop.wait(wait):
            return
        now = datetime.now(UTC).replace(microsecond=0)
        lead = reported - datetime.fromisoformat(event["occurred_at"])
        event["reported_at"] = now.isoformat()
        event["occurred_at"] = (now - lead).isoformat()
        event.pop("event_id", None)  # a new event each run: ingest assigns the id (a rerun is not a replay)
        yield event


def feed(base_url: str, tokens: dict[str, str], seed: int, speedup: float,
         on_error: Callable[[str], None]) -> Callable[[threading.Event], None]:
    def run(stop: threading.Event) -> None:
        day = 0
        # Plain HTTP to the hub's own ingest: no certificate to verify, so no CA bundle to load (about 50 ms of
        # CPU in the demo's start, before its first event).
        with httpx.Client(base_url=base_url, timeout=10, verify=False) as client:
            while not stop.is_set():
                day_start = (datetime.now(UTC) - timedelta(days=1)).replace(hour=0, minute=0, second=0,
                                                                           microsecond=0)
                events, pace_from = generate(None, seed + day, day_start, days=1), day_start
                first = next(events, None) if day == 0 else None
                if first is not None:
                    events, pace_from = itertools.chain([first], events), reported_at(first)
                for event in paced(events, pace_from, speedup, stop):
                    agency = event["source_agency"]
                    resp = client.post("/v1/events", json=event,
                                       headers={"Authorization": f"Bearer {tokens[agency]}"})
                    if resp.status_code != 202:
                        on_error(f"ingest answered {resp.status_code} for a synthetic event: "
                                 f"{resp.json().get('detail', '')}")
                day += 1

    return run
