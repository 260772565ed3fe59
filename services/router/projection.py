"""Redaction by projection: each recipient's copy is built from an allow-list of field paths.

Nothing is ever deleted from the full record; a field reaches a recipient only when its path (or
the path of the record that holds it) is on that recipient's list. Withheld fields keep the schema's
empty value (null, or [] for arrays) so the projection is still a valid ConcernEvent. A field of coded
elements (risk_factors) keeps only the codes whose kind path (`risk_factors.general`, `.health`) is listed."""

from __future__ import annotations

from typing import Any

from eahub.core import risk_factors, schemas


def project(event: dict[str, Any], allowed: frozenset[str] | set[str]) -> dict[str, Any]:
    return _project_record(schemas.load(schemas.CONCERN_EVENT).raw["fields"], event, allowed, "")


def _project_record(fields: list[dict[str, Any]], record: dict[str, Any], allowed: frozenset[str] | set[str],
                    prefix: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        path = prefix + f["name"]
        value = record.get(f["name"])
        nested = schemas.record_of(f["type"])
        if path in allowed:
            out[f["name"]] = value
        elif f.get(schemas.VOCABULARY_PROPERTY) == risk_factors.FIELD and isinstance(value, list):
            out[f["name"]] = risk_factors.keep_paths(value, allowed)  # by code kind: risk_factors.health, ...
        elif nested is not None and value is not None and any(a.startswith(path + ".") for a in allowed):
            out[f["name"]] = _project_record(nested["fields"], value, allowed, path + ".")
        else:
            out[f["name"]] = _empty(f)
    return out


def _empty(field: dict[str, Any]) -> Any:
    if "default" not in field:
        raise ValueError(f"field {field['name']} has no default and cannot be withheld; it must be on every allow-list")
    return field["default"]
