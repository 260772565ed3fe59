"""`create_board_app`: the web shell plus the board's routes over board-core's facade."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi import FastAPI

from eahub.board.service import Board
from eahub.board.web.case_routes import add_case_routes
from eahub.board.web.other_routes import add_metrics_route, add_other_routes
from eahub.board.web.queue_routes import add_queue_routes
from eahub.core.web.app_factory import create_web_app
from eahub.core.web.oidc import OidcSignIn
from eahub.core.web.shell import Shell


def agency_names(policies_dir: Path) -> dict[str, str]:
    data = json.loads((policies_dir / "data" / "agencies.json").read_text())
    return {a["id"]: a.get("name", a["id"]) for a in data["agencies"]}


def create_board_app(shell: Shell, board: Board, policies_dir: Path, metrics_registry: object | None = None,
                     refresh_seconds: int = 5, oidc: OidcSignIn | None = None) -> FastAPI:
    app = create_web_app(shell, "Early Action board", oidc=oidc)
    names = agency_names(policies_dir)
    add_queue_routes(app, shell, board, refresh_seconds, names)
    add_case_routes(app, shell, board, names)
    add_other_routes(app, shell, board)
    if metrics_registry is not None:
        add_metrics_route(app, metrics_registry)
    return app
