"""The queue: the signed-in user's board only, open cases by due time, filters in the query string (no personal
data), and a fragment that htmx polls so new cases appear without a reload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse

from eahub.board.model import STATES, Actor, BoardError
from eahub.board.service import Board
from eahub.board.web import forms
from eahub.board.web.actor import actor_of
from eahub.board.web.errors import to_problem
from eahub.core.web.shell import Shell

MAX_ROWS = 200  # the soonest due; the page says how many more there are (narrow with the filters)


def add_queue_routes(app: FastAPI, shell: Shell, board: Board, refresh_seconds: int,
                     agency_names: dict[str, str]) -> None:
    def rows(actor: Actor, request: Request) -> dict[str, Any]:
        flt = forms.queue_filter(request.query_params)
        try:
            queue = board.queue(actor, flt)
        except BoardError as exc:
            raise to_problem(exc) from None
        return {"rows": queue[:MAX_ROWS], "total": len(queue), "flt": flt, "query": str(request.query_params),
                "refresh_seconds": refresh_seconds}

    @app.get("/", response_class=HTMLResponse)
    def queue_page(request: Request, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        return shell.page(request, "queue.html", states=STATES, grades=forms.grades(),
                          board_name=agency_names.get(actor.agency, actor.agency),
                          categories=forms.categories(), **rows(actor, request))

    @app.get("/queue/rows", response_class=HTMLResponse)
    def queue_rows(request: Request, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        return shell.page(request, "queue_rows.html", **rows(actor, request))
