"""The sane window for an event's times, checked at ingest (422) and again by the router (dead letter),
because events reach inbound topics without passing ingest. A time outside it is refused before anything is
computed from it (a due-by time from a reported_at in the year 9999 overflows).

    reported_at: at most `MAX_REPORT_AGE` back, at most the clock skew ahead
    occurred_at: not before `EARLIEST_OCCURRED`, at most the clock skew ahead"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eahub.core.errors import FieldError

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
MAX_REPORT_AGE = timedelta(days=10 * 366)
EARLIEST_OCCURRED = datetime(1900, 1, 1, tzinfo=UTC)


def time_errors(record: dict[str, Any], now: datetime, clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> list[FieldError]:
    """Each time field outside its window, named (never its value). `record` is schema-shaped."""
    errors: list[FieldError] = []
    latest = now + clock_skew
    ahead = f"is in the future (more than {_minutes(clock_skew)} ahead of the hub clock)"
    for name in ("occurred_at", "reported_at"):
        value = record.get(name)
        if not isinstance(value, datetime):
            errors.append(FieldError(name, "is not a timestamp"))
        elif value > latest:
            errors.append(FieldError(name, ahead))
    reported, occurred = record.get("reported_at"), record.get("occurred_at")
    if isinstance(reported, datetime) and reported < now - MAX_REPORT_AGE:
        errors.append(FieldError("reported_at", f"is more than {MAX_REPORT_AGE.days // 366} years ago"))
    if isinstance(occurred, datetime) and occurred < EARLIEST_OCCURRED:
        errors.append(FieldError("occurred_at", f"is before {EARLIEST_OCCURRED.year}"))
    return errors


def _minutes(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
