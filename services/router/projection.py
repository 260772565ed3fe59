"""Redaction by projection: each recipient's copy is built from an allow-list of field paths.

Nothing is ever deleted from the full record; a field reaches a recipient only when its path (or
the path of the record that holds it) is on that recipient's list. Withheld fields keep the schema's
empty value (null, or [] for arrays) so the projection is still a valid ConcernEvent. A field of coded
elements (risk_factors) keeps only the codes whose kind path (`risk_factors.general`, `.health`) is listed.

The walk over the schema is done once per distinct allow-list (a plan of what to do with each field), not once
per event: recipients share a handful of allow-lists."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from eahub.core import risk_factors, schemas

# What a plan does with one field: copy it, keep its allowed codes, project the nested record, or withhold it.
_COPY, _CODES, _NESTED, _EMPTY = range(4)
_NO_DEFAULT = object()
_Plan = tuple[tuple[str, int, Any, Any], ...]  # (field name, what, nested plan or allow-list, empty value)


def project(event: dict[str, Any], allowed: frozenset[str] | set[str]) -> dict[str, Any]:
    return _apply(_plan(frozenset(allowed)), event)


@lru_cache(maxsize=256)
def _plan(allowed: frozenset[str]) -> _Plan:
    return _plan_record(schemas.load(schemas.CONCERN_EVENT).raw["fields"], allowed, "")


def _plan_record(fields: list[dict[str, Any]], allowed: frozenset[str], prefix: str) -> _Plan:
    steps: list[tuple[str, int, Any, Any]] = []
    for f in fields:
        path = prefix + f["name"]
        nested = schemas.record_of(f["type"])
        empty = f.get("default", _NO_DEFAULT)
        if path in allowed:
            steps.append((f["name"], _COPY, None, empty))
        elif f.get(schemas.VOCABULARY_PROPERTY) == risk_factors.FIELD:
            steps.append((f["name"], _CODES, allowed, empty))  # by code kind: risk_factors.health, ...
        elif nested is not None and any(a.startswith(path + ".") for a in allowed):
            steps.append((f["name"], _NESTED, _plan_record(nested["fields"], allowed, path + "."), empty))
        else:
            steps.append((f["name"], _EMPTY, None, empty))
    return tuple(steps)


def _apply(plan: _Plan, record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, what, arg, empty in plan:
        value = record.get(name)
        if what == _COPY:
            out[name] = value
        elif what == _CODES and isinstance(value, list):
            out[name] = risk_factors.keep_paths(value, arg)
        elif what == _NESTED and value is not None:
            out[name] = _apply(arg, value)
        else:
            out[name] = _empty(name, empty)
    return out


def _empty(name: str, empty: Any) -> Any:
    if empty is _NO_DEFAULT:
        raise ValueError(f"field {name} has no default and cannot be withheld; it must be on every allow-list")
    return list(empty) if isinstance(empty, list) else empty
