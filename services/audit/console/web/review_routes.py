"""The review queue (a CONSULTATION: it shows justification text from the vault) and reviewing an item (an
ACTION, with the note kept in `ig_review_notes`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from eahub.audit.console import trail
from eahub.audit.console.reviews import ReviewError, review_item, review_queue
from eahub.audit.console.web.accounts import MAY_REVIEW, ROLES
from eahub.audit.console.web.context import Console, roles
from eahub.audit.review import OUTCOMES
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell


def add_review_routes(app: FastAPI, shell: Shell, c: Console) -> None:
    store = c.parts.store

    @app.get("/reviews", response_class=HTMLResponse)
    def reviews(request: Request, account: Annotated[Account, Depends(roles(*ROLES))]) -> HTMLResponse:
        items = review_queue(store, c.parts.vault, c.settings)
        trail.record(store, "CONSULTATION", account.login, "reviews", "IG officer viewed the review queue",
                     details={"items_shown": str(len(items))})
        return shell.page(request, "reviews.html", page_title="Reviews", items=items, outcomes=OUTCOMES,
                          may_review=account.role in MAY_REVIEW, message=request.query_params.get("done"))

    @app.post("/reviews/{item_id}")
    def review(item_id: str, account: Annotated[Account, Depends(roles(*MAY_REVIEW))],
               outcome: Annotated[str, Form(max_length=40)] = "",
               note: Annotated[str, Form(max_length=4000)] = "") -> Response:
        try:
            review_item(store, c.parts.engine, c.parts.vault, c.settings, item_id, account.login, outcome, note)
        except ReviewError as exc:
            raise Problem(422, "invalid-review", str(exc)) from None
        return RedirectResponse("/reviews?done=1", status_code=303)
