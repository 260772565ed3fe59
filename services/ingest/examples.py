"""A valid concern event in JSON form, for API docs and tests. Made-up person; NHS number from the
999 range that NHS England reserves for test data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from eahub.core.event_json import format_time


def example_event(at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """Reported 3 minutes before `at` (default now), occurred 10 minutes before; fields overridable."""
    at = at or datetime.now(UTC)
    event: dict[str, Any] = {
        "event_id": "0b7e5c1e-3f0a-4c55-9d2e-8a6f1b2c3d4e",
        "occurred_at": format_time(at - timedelta(minutes=10)),
        "reported_at": format_time(at - timedelta(minutes=3)),
        "source_agency": "lancashire-police",
        "source_reference": "LC-20261120-0042",
        "category": "MENTAL_HEALTH",
        "grade": "GRADE_2",
        "security_marking": "OFFICIAL_SENSITIVE",
        "district": "Preston",
        "subject": {"name": "Alex Example", "date_of_birth": "1990-04-01", "nhs_number": "9990000018",
                    "address": "12 Example Street, Preston"},
        "narrative": "Caller concerned for a neighbour's safety.",
        "risk_factors": ["self-harm"],
        "consent": {"status": "NOT_SOUGHT", "recorded_by": "PC 1234"},
    }
    event.update(overrides)
    return event
