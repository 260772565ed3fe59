"""`POST /v1/overrides`: break-glass over HTTP. The bearer token must carry a role (bound by the operator
with `eahub token issue --agency ID --role ROLE`) and belong to the agency that published the event: only
the originator can set aside a refusal of its own information. Whether that role may break glass, and what
is then shared, is the policy's decision. Granted or refused, the attempt is audited; the actor recorded is
the token (agency/token id), never a name."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from eahub.core.errors import FieldError
from eahub.core.logging import get_logger
from eahub.core.problem_details import openapi_response, problem
from eahub.ingest.tokens import TokenInfo
from eahub.policy.break_glass import (
    BreakGlassPort,
    BreakGlassRequest,
    OverrideError,
    OverrideForbidden,
    OverrideInvalid,
    OverrideUnavailable,
)

log = get_logger("eahub.ingest")

FIELDS = ("event_id", "recipient", "justification")
REQUEST_SCHEMA = {
    "type": "object", "required": list(FIELDS), "additionalProperties": False,
    "properties": {
        "event_id": {"type": "string", "description": "the refused event (as published)"},
        "recipient": {"type": "string", "description": "registry id of the agency to receive it"},
        "justification": {"type": "string", "description": "why the share is needed now (mandatory; no names)"},
    },
}


def register_overrides(app: FastAPI, *, overrides: BreakGlassPort,
                       authenticate: Callable[[Request], TokenInfo],
                       read_json: Callable[[Request], Awaitable[Any]]) -> None:
    @app.post(
        "/v1/overrides", status_code=201, summary="Break-glass: share one refused event with one recipient",
        responses={
            201: {"description": "granted: shared, marked as an override, queued for IG review"},
            401: openapi_response("missing or unknown bearer token"),
            403: openapi_response("the token carries no break-glass role, or the policy refused the override"),
            404: openapi_response("no routing decision is recorded for the event"),
            422: openapi_response("a field is missing or empty"),
            503: openapi_response("the policy engine or the broker cannot answer now; nothing was shared"),
        },
        openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
            "schema": REQUEST_SCHEMA}}}},
    )
    async def post_override(request: Request) -> JSONResponse:
        info = authenticate(request)
        obj = await read_json(request)
        fields = obj if isinstance(obj, dict) else {}
        errors = [FieldError(f, "is required and must be a string") for f in FIELDS
                  if not isinstance(fields.get(f), str) or (f != "justification" and not fields[f].strip())]
        if errors:
            return problem(422, "validation", "Invalid override request", "see errors", errors)
        # Who broke the glass is the token, not a name typed into the body: the chain never holds a name.
        req = BreakGlassRequest(event_id=fields["event_id"], recipient=fields["recipient"],
                                justification=fields["justification"], role=info.role,
                                actor=f"{info.agency}/{info.token_id}", requester_agency=info.agency,
                                request_id=str(uuid.uuid4()))
        try:
            outcome = await run_in_threadpool(overrides.request, req)
        except OverrideForbidden as exc:
            slug, title = ("no-role", "No break-glass role") if not info.role else ("not-originator",
                                                                                     "Override not permitted")
            return problem(403, slug, title, str(exc), [FieldError("Authorization" if not info.role else "event_id",
                                                                   str(exc))])
        except OverrideInvalid as exc:
            return problem(422, "validation", "Invalid override request", str(exc),
                           [FieldError("justification" if "justification" in str(exc) else "recipient", str(exc))])
        except OverrideError as exc:
            return problem(404, "no-decision", "Override not possible", str(exc), [FieldError("event_id", str(exc))])
        except OverrideUnavailable as exc:
            return problem(503, "unavailable", "Break-glass unavailable", f"{exc}; nothing was shared, retry later",
                           headers={"Retry-After": "5"})
        log.info("override", event_id=outcome.event_id, recipient=outcome.recipient, granted=outcome.granted,
                 role=info.role)
        if not outcome.granted:
            return problem(403, "override-refused", "Override refused by policy", "; ".join(outcome.reasons),
                           [FieldError("recipient", r) for r in outcome.reasons])
        body = {"granted": outcome.granted, "event_id": outcome.event_id, "recipient": outcome.recipient,
                "decision_id": outcome.decision_id, "case_id": outcome.case_id, "reasons": list(outcome.reasons)}
        return JSONResponse(body, status_code=201)
