"""Flows: every table as an accessible SVG chart beside the table itself, and each as CSV (a DISCLOSURE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from eahub.audit.console import flows, trail
from eahub.audit.console.svg import bar_chart
from eahub.audit.console.web.accounts import ROLES
from eahub.audit.console.web.context import Console, roles
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell


def add_flows_routes(app: FastAPI, shell: Shell, c: Console) -> None:
    store = c.parts.store

    @app.get("/flows", response_class=HTMLResponse)
    def flows_page(request: Request, account: Annotated[Account, Depends(roles(*ROLES))]) -> HTMLResponse:
        tables = flows.all_tables(store)
        trail.record(store, "CONSULTATION", account.login, "flows", "IG officer viewed flow statistics")
        charts = [(t, Markup(bar_chart(t))) for t in tables]  # our renderer escapes every label
        return shell.page(request, "flows.html", page_title="Flows", charts=charts)

    @app.get("/flows/{name}.csv")
    def flows_csv(name: str, account: Annotated[Account, Depends(roles(*ROLES))]) -> Response:
        table = flows.table(store, name)
        if table is None:
            raise Problem(404, "not-found", "There is no such table.")
        trail.record(store, "DISCLOSURE", account.login, f"flows-{name}-csv", "flow statistics exported (CSV)",
                     details={"table": name, "rows": str(len(table.rows))})
        return Response(table.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
