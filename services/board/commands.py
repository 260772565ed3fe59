"""Checking a command's arguments before anything is written. Messages name the field, never its value."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from eahub.board.model import InvalidInput

MAX_TEXT = 20_000


@dataclass
class Args:
    """A command's arguments, checked. `texts` are personal and will be sealed: kind -> text."""

    to_user_id: str | None = None
    when: datetime | None = None
    agencies: list[str] = field(default_factory=list)
    week: int | None = None
    outcome: str | None = None
    texts: dict[str, str] = field(default_factory=dict)


def text(args: dict[str, Any], name: str, required: bool = True) -> str | None:
    value = args.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise InvalidInput(f"{name} is required")
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{name} is longer than {MAX_TEXT} characters")
    return value.strip()


def moment(args: dict[str, Any], name: str, default: datetime | None = None) -> datetime:
    value = args.get(name)
    if value is None or value == "":
        if default is None:
            raise InvalidInput(f"{name} is required")
        return default
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInput(f"{name} must be an ISO 8601 time") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidInput(f"{name} must be a time with a time zone")
    return value


def agency_list(args: dict[str, Any], name: str, required: bool) -> list[str]:
    value = args.get(name) or []
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
        raise InvalidInput(f"{name} must be a list of agency ids")
    if required and not value:
        raise InvalidInput(f"{name} needs at least one agency")
    return sorted(set(value))


def check(name: str, args: dict[str, Any], now: datetime, outcomes: dict[str, str]) -> Args:
    out = Args()
    if name in ("not_for_board", "reopen"):
        out.texts["reason"] = text(args, "reason") or ""
    elif name in ("allocate", "reassign"):
        user = args.get("to_user_id")
        if not isinstance(user, str) or not user:
            raise InvalidInput("to_user_id is required")
        out.to_user_id = user
    elif name == "plan_visit":
        out.when = moment(args, "planned_at")
        out.agencies = agency_list(args, "agencies", required=False)
    elif name == "record_visit":
        out.when = moment(args, "visited_at", default=now)
        out.agencies = agency_list(args, "agencies", required=True)
        notes = text(args, "notes", required=False)
        if notes:
            out.texts["visit"] = notes
    elif name == "start_casework":
        out.texts["plan"] = text(args, "plan") or ""
    elif name == "record_review":
        week = args.get("week")
        if isinstance(week, str) and week.isdigit():
            week = int(week)
        if week not in (2, 4):
            raise InvalidInput("week must be 2 or 4")
        out.week = int(week)
        out.texts["review"] = text(args, "text") or ""
    elif name == "close":
        outcome = args.get("outcome")
        if not isinstance(outcome, str) or outcome not in outcomes:
            raise InvalidInput("outcome must be one of the board's outcome codes")
        out.outcome = outcome
        out.texts["outcome"] = text(args, "text") or ""
    return out
