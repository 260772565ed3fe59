"""Age band: the one age fact the policy sees. Derived from a date of birth at the time of the event
(`occurred_at`), never from today: a case about a 17-year-old stays a child's case when replayed later.
The date itself never reaches the policy engine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

ADULT_AGE = 18


def age_band(date_of_birth: date | None, at: datetime | date) -> str:
    """`child` (under 18 on the day), `adult`, or `unknown` (no date of birth, or one after the event)."""
    if date_of_birth is None:
        return "unknown"
    day = at.date() if isinstance(at, datetime) else at
    if date_of_birth > day:
        return "unknown"
    had_birthday = (day.month, day.day) >= (date_of_birth.month, date_of_birth.day)
    age = day.year - date_of_birth.year - (0 if had_birthday else 1)
    return "child" if age < ADULT_AGE else "adult"


def subject_band(event: dict[str, Any]) -> str:
    subject = event.get("subject") or {}
    return age_band(subject.get("date_of_birth"), event["occurred_at"])


def linked_bands(event: dict[str, Any]) -> list[dict[str, str]]:
    """Each linked person as (role, age band), sorted, each pair once: no name, no date."""
    at = event["occurred_at"]
    pairs = {(p["role"], age_band(p.get("date_of_birth"), at)) for p in event.get("linked_people") or []}
    return [{"role": role, "age_band": band} for role, band in sorted(pairs)]
