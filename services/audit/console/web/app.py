"""`create_console_app`: the web shell plus the IG console's routes, and `/metrics` (the scheduled
verification's gauges; no personal data)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from eahub.audit.console.web.context import Console
from eahub.audit.console.web.flows_routes import add_flows_routes
from eahub.audit.console.web.integrity_routes import add_integrity_routes
from eahub.audit.console.web.records_routes import add_records_routes
from eahub.audit.console.web.review_routes import add_review_routes
from eahub.audit.console.web.subject_routes import add_subject_routes
from eahub.core.web.app_factory import create_web_app
from eahub.core.web.oidc import OidcSignIn
from eahub.core.web.shell import Shell


def create_console_app(shell: Shell, console: Console, oidc: OidcSignIn | None = None) -> FastAPI:
    app = create_web_app(shell, "Early Action IG console", oidc=oidc)
    add_subject_routes(app, shell, console)
    add_flows_routes(app, shell, console)
    add_review_routes(app, shell, console)
    add_integrity_routes(app, shell, console)
    add_records_routes(app, shell, console)

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(generate_latest(console.integrity.registry), media_type=CONTENT_TYPE_LATEST)

    return app
