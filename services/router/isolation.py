"""What makes one inbound event a permanent failure beyond what `inbound.py` reads: times outside the sane
window (checked before anything is computed from them), and any error while deciding the event or building
its outputs. Each becomes a `Rejected`, so a dead letter, described by the error's type and the step that
failed — never the error's text, which may quote a value of the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eahub.core.time_window import time_errors
from eahub.router.inbound import Rejected


def check_event(record: dict[str, Any], now: datetime) -> dict[str, Any] | Rejected:
    errors = time_errors(record, now)
    if errors:
        return Rejected("SCHEMA_INVALID", "; ".join(str(e) for e in errors))
    return record


def failed(step: str, exc: BaseException) -> Rejected:
    return Rejected("UNROUTABLE", f"{step} failed: {type(exc).__name__}")
