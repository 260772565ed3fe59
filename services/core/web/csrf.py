"""Synchroniser-token CSRF protection: every POST/PUT/PATCH/DELETE must carry the session's token, as the form
field `csrf_token` or the header `X-CSRF-Token` (htmx sends it through `hx-headers` on <body>)."""

from __future__ import annotations

import hmac

from fastapi import Request

from eahub.core.web.problems import Problem

UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
FIELD = "csrf_token"
HEADER = "x-csrf-token"


async def submitted_token(request: Request) -> str | None:
    token = request.headers.get(HEADER)
    if token:
        return token
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get(FIELD)
        return value if isinstance(value, str) else None
    return None


async def csrf_guard(request: Request) -> None:
    """An app-wide FastAPI dependency: a no-op on safe methods, a 403 problem when the token is missing/wrong."""
    if request.method not in UNSAFE:
        return
    session = getattr(request.state, "session", None)
    token = await submitted_token(request)
    if session is None or not token or not hmac.compare_digest(token, session.csrf_token):
        raise Problem(403, "csrf", "This form has expired or did not come from this site. Go back, reload the "
                      "page and try again.", title="Form expired")
