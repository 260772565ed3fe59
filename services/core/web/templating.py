"""Jinja2 rendering for the shell and the apps on it: autoescape on, app templates before the shell's own, and
times shown in Europe/London with the zone (GMT/BST) written out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

SHELL_TEMPLATES = Path(__file__).parent / "templates"
LONDON = ZoneInfo("Europe/London")


def london(value: datetime | int | float | None, fmt: str = "%a %d %b %Y, %H:%M %Z") -> str:
    """A UTC datetime (or epoch ms) as London wall-clock time with its zone, e.g. 'Tue 01 Dec 2026, 16:05 GMT'."""
    if value is None:
        return "—"
    if isinstance(value, int | float):
        value = datetime.fromtimestamp(value / 1000, UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON).strftime(fmt)


def iso_london(value: str | None) -> str:
    """An ISO 8601 time (as in a record's JSON form) in London time; other text unchanged."""
    if not value:
        return "—"
    try:
        return london(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return value


def duration(seconds: int | float | None) -> str:
    """A signed number of seconds as '1 h 05 min' / '3 d 2 h' / '12 min' (no zone involved)."""
    if seconds is None:
        return "—"
    s = abs(int(seconds))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days} d {hours} h"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    else:
        text = f"{minutes} min"
    return text


def make_environment(app_template_dirs: Sequence[Path] = ()) -> Environment:
    loaders = [FileSystemLoader(str(d)) for d in app_template_dirs] + [FileSystemLoader(str(SHELL_TEMPLATES))]
    env = Environment(loader=ChoiceLoader(loaders), autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters["london"] = london
    env.filters["duration"] = duration
    env.filters["iso_london"] = iso_london
    return env


def render(env: Environment, name: str, context: dict[str, Any]) -> str:
    return env.get_template(name).render(**context)
