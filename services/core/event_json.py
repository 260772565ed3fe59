"""The JSON form of a concern event (HTTP API, files, the generator) and its Avro record form.

JSON form: times are ISO-8601 strings with a UTC offset ("2026-11-20T16:05:00Z"), dates are
"YYYY-MM-DD", enums are their symbol strings, nested records are objects, as in
schemas/eahub.ConcernEvent.avsc. Record form (avro_codec, fastavro): tz-aware datetimes, `date`s.

The conversion walks the Avro schema itself, so a new schema version needs no change here. Every
structural problem is reported as a FieldError naming the field; values are never echoed."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

from eahub.core import schemas
from eahub.core.errors import FieldError, ValidationFailed

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_NAME_SHOWN = 64


def from_json(obj: Any, schema_name: str = schemas.CONCERN_EVENT) -> dict[str, Any]:
    """JSON form -> Avro record form. Raises ValidationFailed listing every field error."""
    errors: list[FieldError] = []
    record = _Converter(errors, to_record=True).convert(schemas.load(schema_name).raw, obj, "")
    if errors:
        raise ValidationFailed(errors)
    return record


def to_json(record: dict[str, Any], schema_name: str = schemas.CONCERN_EVENT) -> dict[str, Any]:
    """Avro record form -> JSON form (times in UTC with "Z", millisecond precision)."""
    errors: list[FieldError] = []
    obj = _Converter(errors, to_record=False).convert(schemas.load(schema_name).raw, record, "")
    if errors:
        raise ValidationFailed(errors)
    return obj


def json_schema(schema_name: str = schemas.CONCERN_EVENT) -> dict[str, Any]:
    """A JSON Schema of the JSON form, derived from the Avro schema (for the OpenAPI document)."""
    named: dict[str, Any] = {}

    def walk(avro_type: Any) -> dict[str, Any]:
        if isinstance(avro_type, str):
            if avro_type in named:
                return walk(named[avro_type])
            return {"string": {"type": "string"}, "boolean": {"type": "boolean"}, "int": {"type": "integer"},
                    "long": {"type": "integer"}, "float": {"type": "number"}, "double": {"type": "number"},
                    "null": {"type": "null"}}[avro_type]
        if isinstance(avro_type, list):
            return {"anyOf": [walk(b) for b in avro_type]}
        kind = avro_type["type"]
        if kind in ("record", "enum"):
            full_name = f"{avro_type.get('namespace', 'eahub')}.{avro_type['name']}"
            named[avro_type["name"]] = named[full_name] = avro_type
        if kind == "record":
            return {"type": "object", "additionalProperties": False,
                    "required": [f["name"] for f in avro_type["fields"] if "default" not in f],
                    "properties": {f["name"]: _with_doc(walk(f["type"]), f) for f in avro_type["fields"]}}
        if kind == "enum":
            return {"type": "string", "enum": list(avro_type["symbols"])}
        if kind == "array":
            return {"type": "array", "items": walk(avro_type["items"])}
        if avro_type.get("logicalType") == "timestamp-millis":
            return {"type": "string", "format": "date-time", "description": "ISO-8601 with a UTC offset"}
        if avro_type.get("logicalType") == "date":
            return {"type": "string", "format": "date"}
        return walk(kind)

    return walk(schemas.load(schema_name).raw)


def _with_doc(schema: dict[str, Any], avro_field: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "description": avro_field["doc"]} if "doc" in avro_field else schema


def format_time(value: datetime) -> str:
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text + "Z"


def parse_time(value: str) -> datetime | None:
    """An ISO-8601 date-time with a UTC offset, truncated to milliseconds; None if it is not one."""
    if "T" not in value and " " not in value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    try:
        as_utc = parsed.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+00:01, before the first representable instant
        return None
    return as_utc.replace(microsecond=parsed.microsecond // 1000 * 1000)


def _field_name(name: str) -> str:
    return name if len(name) <= _MAX_NAME_SHOWN else name[:_MAX_NAME_SHOWN] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class _Converter:
    def __init__(self, errors: list[FieldError], *, to_record: bool) -> None:
        self.errors = errors
        self.to_record = to_record
        self.named: dict[str, Any] = {}

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def convert(self, avro_type: Any, value: Any, path: str) -> Any:
        if isinstance(avro_type, str):
            if avro_type in self.named:
                return self.convert(self.named[avro_type], value, path)
            return self.primitive(avro_type, value, path)
        if isinstance(avro_type, list):
            return self.union(avro_type, value, path)
        kind = avro_type["type"]
        if kind in ("record", "enum", "fixed"):
            self.named[avro_type["name"]] = avro_type
            if "namespace" in avro_type:
                self.named[f"{avro_type['namespace']}.{avro_type['name']}"] = avro_type
        if kind == "record":
            return self.record(avro_type, value, path)
        if kind == "enum":
            if not isinstance(value, str) or value not in avro_type["symbols"]:
                self.fail(path, "must be one of " + ", ".join(avro_type["symbols"]))
            return value
        if kind == "array":
            if not isinstance(value, list):
                self.fail(path, "must be an array")
                return []
            return [self.convert(avro_type["items"], v, f"{path}[{i}]") for i, v in enumerate(value)]
        logical = avro_type.get("logicalType")
        if logical == "timestamp-millis":
            return self.timestamp(value, path)
        if logical == "date":
            return self.date(value, path)
        return self.convert(kind, value, path)

    def record(self, avro_type: dict[str, Any], value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            self.fail(path, "must be an object")
            return {}
        known = {f["name"] for f in avro_type["fields"]}
        for name in value:
            if name not in known:
                self.fail(_join(path, _field_name(str(name))), "unknown field")
        out: dict[str, Any] = {}
        for f in avro_type["fields"]:
            name, fpath = f["name"], _join(path, f["name"])
            if name in value:
                out[name] = self.convert(f["type"], value[name], fpath)
            elif "default" in f:
                out[name] = self.convert(f["type"], f["default"], fpath) if self.to_record else f["default"]
            else:
                self.fail(fpath, "is required")
        return out

    def union(self, branches: list[Any], value: Any, path: str) -> Any:
        if value is None:
            if "null" in branches:
                return None
            self.fail(path, "must not be null")
            return None
        candidates = [b for b in branches if b != "null"]
        for branch in candidates:
            trial = _Converter([], to_record=self.to_record)
            trial.named = self.named
            result = trial.convert(branch, value, path)
            if not trial.errors or branch is candidates[-1]:
                self.errors.extend(trial.errors)
                return result
        return None

    def primitive(self, kind: str, value: Any, path: str) -> Any:
        ok = {
            "string": isinstance(value, str),
            "boolean": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "long": isinstance(value, int) and not isinstance(value, bool),
            "float": isinstance(value, int | float) and not isinstance(value, bool),
            "double": isinstance(value, int | float) and not isinstance(value, bool),
            "null": value is None,
        }.get(kind)
        if ok is None:
            raise TypeError(f"unsupported Avro type {kind} at {path}")
        if not ok:
            self.fail(path, f"must be a {'number' if kind in ('float', 'double') else kind}")
        return value

    def timestamp(self, value: Any, path: str) -> Any:
        if self.to_record:
            parsed = parse_time(value) if isinstance(value, str) else None
            if parsed is None:
                self.fail(path, "must be an ISO-8601 date-time with a UTC offset, e.g. 2026-11-20T16:05:00Z")
            return parsed
        if not isinstance(value, datetime) or value.tzinfo is None:
            self.fail(path, "must be a timezone-aware datetime")
            return None
        return format_time(value)

    def date(self, value: Any, path: str) -> Any:
        if self.to_record:
            parsed = None
            if isinstance(value, str) and _DATE.match(value):
                try:
                    parsed = date.fromisoformat(value)
                except ValueError:
                    parsed = None
            if parsed is None:
                self.fail(path, "must be a date YYYY-MM-DD")
            return parsed
        if not isinstance(value, date) or isinstance(value, datetime):
            self.fail(path, "must be a date")
            return None
        return value.isoformat()
