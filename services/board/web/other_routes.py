"""Feedback (outcomes of this agency's own concerns), notifications, the manager's team workload, and /metrics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from eahub.board.model import Actor, BoardError
from eahub.board.service import Board
from eahub.board.web.actor import actor_of
from eahub.board.web.errors import to_problem
from eahub.core.web.shell import Shell


def add_other_routes(app: FastAPI, shell: Shell, board: Board) -> None:
    @app.get("/feedback", response_class=HTMLResponse)
    def feedback(request: Request, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        try:
            return shell.page(request, "feedback.html", items=board.feedback(actor))
        except BoardError as exc:
            raise to_problem(exc) from None

    @app.get("/notifications", response_class=HTMLResponse)
    def notifications(request: Request, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        try:
            return shell.page(request, "notifications.html", items=board.notifications(actor))
        except BoardError as exc:
            raise to_problem(exc) from None

    @app.get("/workload", response_class=HTMLResponse)
    def workload(request: Request, actor: Annotated[Actor, Depends(actor_of)]) -> HTMLResponse:
        try:
            return shell.page(request, "workload.html", rows=board.workload(actor))
        except BoardError as exc:
            raise to_problem(exc) from None


def add_metrics_route(app: FastAPI, registry: object) -> None:
    """GET /metrics: board-core's private prometheus registry (no personal data; labels are agency/grade/state)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)  # type: ignore[arg-type]
