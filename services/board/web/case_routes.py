"""The case page. GET shows only the non-personal header and the purpose-of-access form; content is shown only in
answer to a POST (CSRF-checked) after the facade has had the CONSULTATION acknowledged (`Board.open_case`). Every
command, note and action answers with the case content again (audited again, with the purpose carried along)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from eahub.board.lifecycle import COMMANDS
from eahub.board.model import ACTION_STATUSES, MANAGER, PURPOSES, Actor, BoardError
from eahub.board.service import Board
from eahub.board.web import forms
from eahub.board.web.actor import actor_of
from eahub.board.web.errors import to_problem
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell

PURPOSE_LABELS = {"allocated": "The case is allocated to me", "team": "My team is working the case",
                  "triage": "Triage (deciding who takes it)", "supervision": "Supervision or review",
                  "other": "Other (give a reason)"}
COMMAND_LABELS = {"triage": "Mark as triaged", "not_for_board": "Not for this board", "claim": "Claim this case",
                  "allocate": "Allocate", "reassign": "Reassign", "acknowledge": "Acknowledge",
                  "plan_visit": "Plan a visit", "record_visit": "Record a visit",
                  "start_casework": "Start casework", "record_review": "Record a review",
                  "close": "Close with an outcome", "reopen": "Reopen"}
NARRATIVE_FIELDS = ("narrative", "health_details")
CONCERN_ORDER = ("subject", "source_reference", "occurred_at", "reported_at", "risk_factors", "consent",
                 "linked_people", "referrer")
CONCERN_SKIP = ("category", "grade", "district", "security_marking", "source_agency", "restricted_to")
TIME_FIELDS = ("occurred_at", "reported_at")


def _args(name: str, form: FormData) -> dict[str, Any]:
    if name in ("not_for_board", "reopen"):
        return {"reason": forms.text(form, "reason")}
    if name in ("allocate", "reassign"):
        return {"to_user_id": forms.text(form, "to_user_id")}
    if name == "plan_visit":
        return {"planned_at": forms.london_time(form, "planned_at"), "agencies": form.getlist("agencies")}
    if name == "record_visit":
        return {"visited_at": forms.london_time(form, "visited_at"), "agencies": form.getlist("agencies"),
                "notes": forms.text(form, "notes")}
    if name == "start_casework":
        return {"plan": forms.text(form, "plan")}
    if name == "record_review":
        return {"week": forms.text(form, "week"), "text": forms.text(form, "text")}
    if name == "close":
        return {"outcome": forms.text(form, "outcome"), "text": forms.text(form, "text")}
    return {}


def add_case_routes(app: FastAPI, shell: Shell, board: Board, agency_names: dict[str, str]) -> None:
    def guarded(fn: Callable[[], HTMLResponse]) -> HTMLResponse:
        try:
            return fn()
        except BoardError as exc:
            raise to_problem(exc) from None

    def common(actor: Actor) -> dict[str, Any]:
        return {"purposes": PURPOSES, "purpose_labels": PURPOSE_LABELS, "command_labels": COMMAND_LABELS,
                "agency_names": agency_names, "outcomes": board.sla.outcomes, "is_manager": actor.role == MANAGER,
                "action_statuses": ACTION_STATUSES, "narrative_fields": NARRATIVE_FIELDS,
                "concern_order": CONCERN_ORDER, "concern_skip": CONCERN_SKIP, "time_fields": TIME_FIELDS}

    def content_page(request: Request, actor: Actor, case_id: str, purpose: str, reason: str | None,
                     part: str = "concern", message: str | None = None, who_looked: list[Any] | None = None
                     ) -> HTMLResponse:
        content = board.open_case(actor, case_id, purpose, reason, part=part)
        return shell.page(request, "case.html", header=content.header, content=content, purpose=purpose,
                          purpose_reason=reason or "", show_narrative=part == "narrative", message=message,
                          who_looked=who_looked, assignable=board.assignable(actor), **common(actor))

    @app.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_header(request: Request, case_id: str, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        return guarded(lambda: shell.page(request, "case.html", header=board.header(actor, case_id), content=None,
                                          purpose="", purpose_reason="", message=None, **common(actor)))

    @app.post("/cases/{case_id}/open", response_class=HTMLResponse)
    async def open_case(request: Request, case_id: str, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        form = await request.form()
        purpose, reason = forms.purpose(form)
        part = "narrative" if form.get("part") == "narrative" else "concern"
        return await _threaded(lambda: guarded(lambda: content_page(request, actor, case_id, purpose, reason, part)))

    @app.post("/cases/{case_id}/commands/{name}", response_class=HTMLResponse)
    async def command(request: Request, case_id: str, name: str,
                      actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        if name not in COMMANDS:
            raise Problem(404, "no-such-command", "There is no such action.", title="Page not found")
        form = await request.form()
        purpose, reason = forms.purpose(form)
        args = _args(name, form)
        version = forms.expected_version(form)

        def run() -> HTMLResponse:
            board.command(actor, case_id, name, args, expected_version=version)
            return content_page(request, actor, case_id, purpose, reason,
                                message=f"Done: {COMMAND_LABELS.get(name, name).lower()}.")
        return await _threaded(lambda: guarded(run))

    @app.post("/cases/{case_id}/notes", response_class=HTMLResponse)
    async def add_note(request: Request, case_id: str, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        form = await request.form()
        purpose, reason = forms.purpose(form)
        text = forms.text(form, "text", required=True) or ""
        corrects = forms.text(form, "corrects_note_id", limit=64)

        def run() -> HTMLResponse:
            board.add_note(actor, case_id, text, significant=form.get("significant") == "1",
                           corrects_note_id=corrects)
            return content_page(request, actor, case_id, purpose, reason, message="Note added.")
        return await _threaded(lambda: guarded(run))

    @app.post("/cases/{case_id}/actions", response_class=HTMLResponse)
    async def add_action(request: Request, case_id: str,
                         actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        form = await request.form()
        purpose, reason = forms.purpose(form)
        text = forms.text(form, "text", required=True) or ""
        owner = forms.text(form, "owner_user_id", required=True, limit=64) or ""
        due = forms.london_time(form, "due", required=True) or ""

        def run() -> HTMLResponse:
            board.add_action(actor, case_id, text, owner, datetime.fromisoformat(due))
            return content_page(request, actor, case_id, purpose, reason, message="Action added.")
        return await _threaded(lambda: guarded(run))

    @app.post("/cases/{case_id}/actions/{action_id}/status", response_class=HTMLResponse)
    async def action_status(request: Request, case_id: str, action_id: str,
                            actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        form = await request.form()
        purpose, reason = forms.purpose(form)
        status = forms.text(form, "status", required=True, limit=20) or ""

        def run() -> HTMLResponse:
            board.set_action_status(actor, case_id, action_id, status)
            return content_page(request, actor, case_id, purpose, reason, message="Action updated.")
        return await _threaded(lambda: guarded(run))

    @app.post("/cases/{case_id}/who-looked", response_class=HTMLResponse)
    async def who_looked(request: Request, case_id: str,
                         actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        form = await request.form()
        purpose, reason = forms.purpose(form)

        def run() -> HTMLResponse:
            looked = board.who_looked(actor, case_id)
            return content_page(request, actor, case_id, purpose, reason, who_looked=looked)
        return await _threaded(lambda: guarded(run))


async def _threaded(fn: Callable[[], HTMLResponse]) -> HTMLResponse:
    return await run_in_threadpool(fn)
