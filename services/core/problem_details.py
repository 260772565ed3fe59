"""RFC 9457 problem details (application/problem+json) for the ingest HTTP API."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from eahub.core.errors import FieldError

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:eahub:problem:"


def problem(status: int, slug: str, title: str, detail: str, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None, extra: dict[str, object] | None = None) -> JSONResponse:
    """An RFC 9457 problem; `extra` adds extension members (e.g. the event_id to retry with)."""
    body: dict[str, object] = {"type": TYPE_PREFIX + slug, "title": title, "status": status, "detail": detail,
                               **(extra or {})}
    if errors is not None:
        body["errors"] = [{"field": e.field, "message": e.message} for e in errors]
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def openapi_response(description: str) -> dict[str, object]:
    schema = {"$ref": "#/components/schemas/Problem"}
    return {"description": description, "content": {MEDIA_TYPE: {"schema": schema}}}


PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}
