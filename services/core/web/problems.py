"""RFC 9457 problem details for JSON clients and an accessible HTML error page for browsers.

A problem carries only a fixed title and a detail written by the code (never an echo of input or of a case's
content), so no 4xx/5xx page, URL or <title> can hold personal data."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:eahub:problem:"

TITLES = {400: "Bad request", 401: "Sign in required", 403: "Forbidden", 404: "Page not found",
          405: "Method not allowed", 409: "Conflict", 413: "Request too large", 415: "Unsupported media type",
          422: "Check your answers", 429: "Too many attempts", 500: "Something went wrong",
          503: "Service unavailable"}


class Problem(Exception):
    """Raise from a route to answer with a problem (HTML for browsers, problem+json otherwise)."""

    def __init__(self, status: int, slug: str, detail: str, title: str | None = None,
                 headers: dict[str, str] | None = None, field: str | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.headers = headers or {}
        self.field = field


def problem_body(p: Problem) -> dict[str, object]:
    body: dict[str, object] = {"type": TYPE_PREFIX + p.slug, "title": p.title, "status": p.status,
                               "detail": p.detail}
    if p.field is not None:
        body["errors"] = [{"field": p.field, "message": p.detail}]
    return body


def wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept or request.headers.get("hx-request") == "true"


HtmlRenderer = Callable[[Request, Problem], Response]


def problem_response(request: Request, p: Problem, render_html: HtmlRenderer | None) -> Response:
    if render_html is not None and wants_html(request):
        response = render_html(request, p)
    else:
        response = JSONResponse(problem_body(p), status_code=p.status, media_type=MEDIA_TYPE)
    response.status_code = p.status
    for name, value in p.headers.items():
        response.headers[name] = value
    return response


def from_http_exception(exc: StarletteHTTPException) -> Problem:
    status = exc.status_code
    detail = {404: "There is no page at this address, or you may not see it.",
              405: "This page does not accept that kind of request."}.get(status, TITLES.get(status, "Error") + ".")
    return Problem(status, f"http-{status}", detail, headers=dict(exc.headers or {}))


def from_validation_error(exc: RequestValidationError) -> Problem:
    """A 422 naming the first bad field, never echoing the submitted value."""
    field = "request"
    for err in exc.errors():
        loc: list[Any] = [p for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        if loc:
            field = ".".join(str(p) for p in loc)
            break
    return Problem(422, "invalid-input", f"The field '{field}' is missing or not valid.", field=field)
