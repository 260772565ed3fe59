"""`POST /v1/overrides`: break-glass over HTTP. The bearer token must carry a role (bound by the operator
with `eahub token issue --agency ID --role ROLE`) and belong to the agency that published the event: only
the originator can set aside a refusal of its own information. Whether that role may break glass, and what
is then shared, is the policy's decision. Granted or refused, the attempt is audited; the actor recorded is
the token (agency/token id), never a name."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, Protocol

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from eahub.core.errors import FieldError
from eahub.core.logging import get_logger
from eahub.core.problem_details import openapi_response, problem
from eahub.ingest.tokens import TokenInfo
from eahub.policy.model import Override
from eahub.router.override import OverrideError, OverrideForbidden, OverrideOutcome

log = get_logger("eahub.ingest")

FIELDS = ("event_id", "recipient", "justification")
OverridePort = Callable[[str, Override, str], OverrideOutcome]  # event id, override, requesting agency


class RoleLookup(Protocol):
    def lookup(self, token: str) -> TokenInfo | None: ...


def register_overrides(app: FastAPI, *, tokens: RoleLookup, overrides: OverridePort,
                       authenticate: Callable[[Request], str], read_json: Callable[[Request], Any]) -> None:
    @app.post(
        "/v1/overrides", status_code=201, summary="Break-glass: share one refused event with one recipient",
        responses={
            201: {"description": "granted: shared, marked as an override, queued for IG review"},
            401: openapi_response("missing or unknown bearer token"),
            403: openapi_response("the token carries no break-glass role, or the policy refused the override"),
            404: openapi_response("no routing decision is recorded for the event"),
            422: openapi_response("a field is missing or empty"),
        },
    )
    async def post_override(request: Request) -> JSONResponse:
        agency = authenticate(request)
        scheme_token = request.headers["authorization"].partition(" ")[2].strip()
        info = tokens.lookup(scheme_token)
        obj = await read_json(request)
        errors = [FieldError(f, "is required and must be a non-empty string") for f in FIELDS
                  if not isinstance(obj, dict) or not isinstance(obj.get(f), str) or not obj[f].strip()]
        if errors:
            return problem(422, "validation", "Invalid override request", "see errors", errors)
        if info is None or not info.role:
            return problem(403, "no-role", "No break-glass role",
                           "this token carries no break-glass role; ask the operator for a token issued with --role",
                           [FieldError("Authorization", "token has no role")])
        # Who broke the glass is the token, not a name typed into the body: the chain never holds a name.
        override = Override(obj["recipient"], info.role, f"{agency}/{info.token_id}", obj["justification"],
                            str(uuid.uuid4()))
        try:
            outcome = await run_in_threadpool(overrides, obj["event_id"], override, agency)
        except OverrideForbidden as exc:
            return problem(403, "not-originator", "Override not permitted", str(exc),
                           [FieldError("event_id", str(exc))])
        except OverrideError as exc:
            return problem(404, "no-decision", "Override not possible", str(exc), [FieldError("event_id", str(exc))])
        log.info("override", event_id=outcome.event_id, recipient=outcome.recipient, granted=outcome.granted,
                 role=info.role)
        body = {"granted": outcome.granted, "event_id": outcome.event_id, "recipient": outcome.recipient,
                "decision_id": outcome.decision_id, "case_id": outcome.case_id, "reasons": list(outcome.reasons)}
        if not outcome.granted:
            return problem(403, "override-refused", "Override refused by policy", "; ".join(outcome.reasons),
                           [FieldError("recipient", r) for r in outcome.reasons])
        return JSONResponse(body, status_code=201)
