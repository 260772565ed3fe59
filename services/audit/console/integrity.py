"""Integrity: "verify the trail" (`verify_recorded` against the stored signed heads and, when a source is given, the
heads published outside the database: incremental from the record of the last verification, as `eahub audit verify`
by default, or full on request; scheduled runs are full; without a record path always full), each result kept in
`ig_verifications` with its time and trigger (manual | scheduled) and exported as metrics on a private registry; a
scheduled runner; and the inclusion proof of any entry (`proofs.inclusion`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import Engine, insert, select

from eahub.audit.checkpoints import Checkpointer
from eahub.audit.console.tables import verifications
from eahub.audit.signing import TreeHead
from eahub.audit.verify import verify_ledger
from eahub.audit.verify_recorded import verify_recorded
from eahub.core.logging import get_logger

log = get_logger("eahub.audit.console")
HeadSource = Callable[[], Sequence[TreeHead]]


@dataclass(frozen=True)
class Verification:
    at_ms: int
    trigger: str
    ok: bool
    entries: int
    heads: int
    first_bad_seq: int | None
    summary: str
    # The run just made: incremental from the verified head of `since_size` entries (verified at `since_at_ms`), or
    # full (None). Not kept in ig_verifications (its summary says it), so not compared with a kept one.
    since_size: int | None = field(default=None, compare=False)
    since_at_ms: int | None = field(default=None, compare=False)

    @property
    def incremental(self) -> bool:
        return self.since_size is not None


class Integrity:
    def __init__(self, engine: Engine, checkpointer: Checkpointer, published: HeadSource | None = None,
                 registry: CollectorRegistry | None = None, state_path: Path | None = None) -> None:
        """`state_path`: the record of the last verification (verified_state.STATE_FILE in the data directory),
        read for incremental runs and written after every intact one; None: every run full, nothing recorded."""
        self.engine = engine
        self.checkpointer = checkpointer
        self.published = published
        self.state_path = state_path
        self.registry = registry or CollectorRegistry()
        self._ok = Gauge("eahub_console_ledger_verified_ok", "1 if the last verification passed",
                         registry=self.registry)
        self._at = Gauge("eahub_console_ledger_verified_timestamp_seconds", "time of the last verification",
                         registry=self.registry)
        self._entries = Gauge("eahub_console_ledger_verified_entries", "entries checked by the last verification",
                              registry=self.registry)

    def verify(self, trigger: str = "manual", full: bool = False) -> Verification:
        """Incremental unless `full` (or there is no usable record: then full, the summary says why)."""
        heads = list(self.published()) if self.published else []
        store, signer = self.checkpointer.store, self.checkpointer.signer
        if self.state_path is None:
            result = verify_ledger(store, signer.public_key, heads)
        else:
            result = verify_recorded(store, signer, self.state_path, heads, full=full)
        since = result.since
        v = Verification(int(time.time() * 1000), trigger, result.ok, result.size, result.tree_heads,
                         result.first_bad_seq, result.summary(), None if since is None else since.tree_size,
                         None if since is None else since.verified_at_ms)
        with self.engine.begin() as conn:
            conn.execute(insert(verifications).values(at_ms=v.at_ms, trigger=trigger, ok=v.ok, entries=v.entries,
                                                      heads=v.heads, first_bad_seq=v.first_bad_seq,
                                                      summary=v.summary))
        self._ok.set(1 if v.ok else 0)
        self._at.set(v.at_ms / 1000)
        self._entries.set(v.entries)
        log.info("console.verified", ok=v.ok, entries=v.entries, heads=v.heads, trigger=trigger,
                 incremental_from=v.since_size)
        return v

    def history(self, limit: int = 10) -> list[Verification]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(verifications).order_by(verifications.c.id.desc()).limit(limit)).all()
        return [Verification(r.at_ms, r.trigger, r.ok, r.entries, r.heads, r.first_bad_seq, r.summary) for r in rows]

    def runner(self, interval_seconds: float) -> Callable[[threading.Event], None]:
        """A scheduled verification every `interval_seconds` until the stop event is set (first run at once)."""
        def run(stop: threading.Event) -> None:
            while not stop.is_set():
                try:
                    self.verify("scheduled", full=True)
                except Exception as exc:  # a failed run is recorded in the log; the schedule goes on
                    log.error("console.verify_failed", error=type(exc).__name__)
                stop.wait(interval_seconds)
        return run

    def proof(self, entry_id: str) -> dict[str, Any] | None:
        from eahub.audit.proofs import inclusion

        return inclusion(self.checkpointer, entry_id)
