"""Reading the board's GET filters and POST forms: known values only (unknown -> 422 naming the field),
datetime-local inputs read as Europe/London wall-clock time."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.datastructures import FormData, QueryParams

from eahub.board.model import PURPOSES, STATES, QueueFilter
from eahub.core.schemas import enum_symbols
from eahub.core.web.problems import Problem
from eahub.core.web.templating import LONDON


def categories() -> list[str]:
    return enum_symbols("Category")


def grades() -> list[str]:
    return enum_symbols("Grade")


def _one_of(value: str | None, allowed: list[str] | tuple[str, ...], field: str) -> str | None:
    if value in (None, ""):
        return None
    if value not in allowed:
        raise Problem(422, "invalid-filter", f"The field '{field}' has a value this board does not know.",
                      field=field)
    return value


def queue_filter(q: QueryParams) -> QueueFilter:
    states = tuple(s for s in q.getlist("state") if s)
    for s in states:
        _one_of(s, STATES, "state")
    district = (q.get("district") or "").strip() or None
    if district is not None and (len(district) > 60 or not all(c.isalnum() or c in " -'" for c in district)):
        raise Problem(422, "invalid-filter", "The field 'district' has a value this board does not know.",
                      field="district")
    return QueueFilter(states=states, grade=_one_of(q.get("grade"), grades(), "grade"),
                       category=_one_of(q.get("category"), categories(), "category"), district=district,
                       mine=q.get("mine") == "1", unallocated=q.get("unallocated") == "1",
                       include_closed=q.get("closed") == "1")


def text(form: FormData, name: str, required: bool = False, limit: int = 20_000) -> str | None:
    raw = form.get(name)
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        if required:
            raise Problem(422, "invalid-input", f"The field '{name}' is required.", field=name)
        return None
    if len(value) > limit:
        raise Problem(422, "invalid-input", f"The field '{name}' is too long.", field=name)
    return value


def purpose(form: FormData) -> tuple[str, str | None]:
    chosen = text(form, "purpose", required=True)
    if chosen not in PURPOSES:
        raise Problem(422, "invalid-input", "The field 'purpose' must be one of the listed purposes.",
                      field="purpose")
    reason = text(form, "purpose_reason", limit=500)
    if chosen == "other" and not reason:
        raise Problem(422, "invalid-input", "The field 'purpose_reason' is required when the purpose is other.",
                      field="purpose_reason")
    return str(chosen), reason


def london_time(form: FormData, name: str, required: bool = False) -> str | None:
    """A datetime-local value (London wall clock) as an ISO 8601 UTC time."""
    value = text(form, name, required=required, limit=40)
    if value is None:
        return None
    try:
        local = datetime.fromisoformat(value)
    except ValueError:
        raise Problem(422, "invalid-input", f"The field '{name}' must be a date and time.", field=name) from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=LONDON)
    return local.astimezone(UTC).isoformat()


def expected_version(form: FormData) -> int | None:
    raw = form.get("expected_version")
    if isinstance(raw, str) and raw.isdigit():
        return int(raw)
    return None
