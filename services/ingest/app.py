"""The ingest HTTP API: `POST /v1/events` (a concern event in JSON, bearer token per agency),
`GET /healthz`, OpenAPI at /openapi.json and /docs. Errors are RFC 9457 problem details naming the
offending field. The app only translates HTTP to `accept_event` and back; its ports are arguments."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from eahub.core.bearer import Unauthenticated, authenticate
from eahub.core.errors import FieldError, SourceMismatch, ValidationFailed
from eahub.core.event_json import json_schema
from eahub.core.json_reader import JsonRejected, strict_loads
from eahub.core.logging import get_logger
from eahub.core.problem_details import PROBLEM_SCHEMA, openapi_response, problem
from eahub.core.readiness import Readiness, publisher_checks
from eahub.ingest.accept import IdConflict, IngestPorts, PublishUnconfirmed, accept_event
from eahub.ingest.examples import example_event
from eahub.ingest.override_api import register_overrides
from eahub.ingest.tokens import TokenInfo
from eahub.policy.break_glass import BreakGlassPort

log = get_logger("eahub.ingest")

EXAMPLE_EVENT = example_event(datetime(2026, 11, 20, 16, 15, tzinfo=UTC))


class TokenLookup(Protocol):
    def lookup(self, token: str) -> TokenInfo | None: ...


class _Problem(Exception):
    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def create_app(*, ports: IngestPorts, tokens: TokenLookup, max_body_bytes: int = 64 * 1024,
               overrides: BreakGlassPort | None = None, readiness: Readiness | None = None) -> FastAPI:
    readiness = readiness or Readiness(publisher_checks(ports.publisher))
    # `accept_event` blocks until the broker's ack, so each request waits in a thread of its own: a plain executor,
    # without anyio's capacity limiter and cancel scope around every call (a tenth of a request's CPU).
    accepting = ThreadPoolExecutor(max_workers=40, thread_name_prefix="ingest-accept")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        accepting.shutdown(wait=True)
        ports.publisher.close()

    app = FastAPI(title="Early Action Hub ingest", version="1", lifespan=lifespan,
                  description="Agencies publish concern-for-safety events; each is validated and written to "
                              "the agency's own inbound topic before the answer.")
    app.state.ports = ports

    @app.exception_handler(_Problem)
    async def _problem(_request: Request, exc: _Problem) -> JSONResponse:
        return exc.response

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, "http", str(exc.detail), str(exc.detail),
                       headers=dict(exc.headers) if exc.headers else None)

    public: dict[str, Any] = {"security": []}  # no bearer token needed

    @app.get("/healthz", summary="Liveness: the process serves HTTP", openapi_extra=public)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Readiness: broker reachable, producer healthy, database writable",
             openapi_extra=public, responses={
                 200: {"description": "every check passes"},
                 503: openapi_response("a check fails (named in `checks`); retry later")})
    def readyz() -> JSONResponse:
        checks = readiness.report()
        if all(v == "ok" for v in checks.values()):
            return JSONResponse({"status": "ready", "checks": checks})
        return problem(503, "not-ready", "Not ready", "a readiness check fails; see checks",
                       headers={"Retry-After": "5"}, extra={"checks": checks})

    @app.post(
        "/v1/events", status_code=202, summary="Publish one concern event",
        responses={
            202: {"description": "written to eahub.inbound.<agency> and acknowledged by the broker",
                  "content": {"application/json": {"example": {
                      "event_id": EXAMPLE_EVENT["event_id"], "topic": "eahub.inbound.lancashire-police"}}}},
            400: openapi_response("the body is not well-formed JSON"),
            401: openapi_response("missing or unknown bearer token"),
            403: openapi_response("source_agency is not the token's agency"),
            409: openapi_response("event_id already used with a different body"),
            413: openapi_response("body larger than the limit"),
            415: openapi_response("Content-Type is not application/json"),
            422: openapi_response("schema or semantic errors, each naming its field"),
            503: openapi_response("the broker did not acknowledge; nothing was recorded, retry later"),
        },
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/ConcernEvent"}, "example": EXAMPLE_EVENT}}}},
    )
    async def post_event(request: Request) -> JSONResponse:
        try:
            return await _post_event(request)
        except _Problem as exc:
            return exc.response

    async def _post_event(request: Request) -> JSONResponse:
        agency = _authenticate(request, tokens).agency
        _require_json(request)
        obj = _parse(await _read_limited(request, max_body_bytes))
        try:
            result = await asyncio.get_running_loop().run_in_executor(accepting, accept_event, obj, agency, ports)
        except SourceMismatch:
            log.info("ingest.rejected", agency=agency, status=403)
            return problem(403, "source-mismatch", "Source agency mismatch",
                           "the event declares a source agency other than the token's agency",
                           [FieldError("source_agency", "does not match the agency of the bearer token")])
        except ValidationFailed as exc:
            log.info("ingest.rejected", agency=agency, status=422, errors=len(exc.errors))
            return problem(422, "validation", "Invalid concern event",
                           f"{len(exc.errors)} field error(s); see errors", exc.errors)
        except IdConflict as exc:
            log.info("ingest.conflict", agency=agency, event_id=exc.event_id, in_progress=exc.in_progress)
            if exc.in_progress:
                return problem(409, "in-progress", "Event id in progress",
                               "another request with this event_id is still being written; retry",
                               [FieldError("event_id", "is being written by another request")],
                               headers={"Retry-After": "5"})
            return problem(409, "conflict", "Event id already used",
                           "this event_id was already accepted with a different body",
                           [FieldError("event_id", "already used with a different body")])
        except PublishUnconfirmed as exc:
            log.warning("ingest.broker_unavailable", agency=agency, event_id=exc.event_id)
            return problem(503, "broker-unavailable", "Broker unavailable",
                           "the broker did not confirm the write; it may or may not have been written. "
                           "Retry later with this event_id: the hub dedupes on it",
                           headers={"Retry-After": "5"}, extra={"event_id": exc.event_id})
        log.info("ingest.accepted", agency=agency, event_id=result.event_id, replayed=result.replayed)
        body: dict[str, Any] = {"event_id": result.event_id, "topic": result.topic}
        if result.warnings:
            body["warnings"] = [{"field": w.field, "message": w.message} for w in result.warnings]
        return JSONResponse(body, status_code=202,
                            headers={"Idempotent-Replayed": "true"} if result.replayed else None)

    # Outermost, so past Starlette's error, body-size and telemetry middleware too: `post_event` answers every
    # error it expects itself and reads at most `max_body_bytes`; an unexpected one still gets uvicorn's 500.
    build_stack = app.build_middleware_stack
    app.build_middleware_stack = lambda: _EventsFastPath(build_stack(), post_event)  # type: ignore[method-assign]

    if overrides is not None:
        async def read_json(request: Request) -> Any:
            _require_json(request)
            return _parse(await _read_limited(request, max_body_bytes))

        register_overrides(app, overrides=overrides, authenticate=lambda request: _authenticate(request, tokens),
                           read_json=read_json)

    original_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original_openapi()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = PROBLEM_SCHEMA
            event_schema = json_schema()
            event_schema["required"].remove("event_id")  # optional here: assigned when absent
            event_schema["description"] = ("a concern event in JSON form, derived from "
                                           "schemas/eahub.ConcernEvent.avsc")
            components["ConcernEvent"] = event_schema
            schema["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


class _EventsFastPath:
    """`POST /v1/events` straight to its endpoint, past FastAPI's middleware, routing and dependency solving (the
    hot route, about a third of a request's CPU). The route stays declared, for the OpenAPI document and the same
    answers."""

    def __init__(self, app: ASGIApp, post_event: Callable[[Request], Awaitable[JSONResponse]]) -> None:
        self.app, self.post_event = app, post_event

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/v1/events":
            response = await self.post_event(Request(scope, receive))
            await response(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _authenticate(request: Request, tokens: TokenLookup) -> TokenInfo:
    try:
        return authenticate(request.headers.get("authorization"), tokens.lookup,
                            how="send Authorization: Bearer <token> (see `eahub token issue`)")
    except Unauthenticated as exc:
        raise _Problem(exc.response) from None


def _require_json(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise _Problem(problem(415, "unsupported-media-type", "Unsupported media type",
                               "send the event as Content-Type: application/json",
                               [FieldError("Content-Type", "must be application/json")]))


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


def _too_large(limit: int) -> _Problem:
    return _Problem(problem(413, "too-large", "Body too large", f"the body exceeds {limit} bytes",
                            [FieldError("", f"body larger than {limit} bytes")]))


def _parse(body: bytes) -> Any:
    try:
        return strict_loads(body)
    except JsonRejected as exc:
        detail = f"the body is not acceptable JSON ({exc})"
    raise _Problem(problem(400, "malformed", "Malformed JSON", detail, [FieldError("", detail)]))
