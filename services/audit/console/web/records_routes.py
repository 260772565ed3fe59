"""Records of processing (Art 30 / DPA s.61) and erasure with a confirmation step."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from eahub.audit.console import erase, trail
from eahub.audit.console.art30 import records_of_processing
from eahub.audit.console.subject import SubjectNotGiven, resolve_subject
from eahub.audit.console.web.accounts import MAY_ERASE, ROLES
from eahub.audit.console.web.context import Console, roles
from eahub.core.erasure import REASONS
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell

Field = Annotated[str, Form(max_length=200)]


def add_records_routes(app: FastAPI, shell: Shell, c: Console) -> None:
    store = c.parts.store

    @app.get("/records", response_class=HTMLResponse)
    def records(request: Request, account: Annotated[Account, Depends(roles(*ROLES))]) -> HTMLResponse:
        rows = records_of_processing(c.policies_dir, store, c.parts.settings)
        trail.record(store, "CONSULTATION", account.login, "records", "IG officer viewed records of processing")
        return shell.page(request, "records.html", page_title="Records of processing", isas=rows)

    @app.get("/erasure", response_class=HTMLResponse)
    def erasure(request: Request, account: Annotated[Account, Depends(roles(*MAY_ERASE))]) -> HTMLResponse:
        return shell.page(request, "erasure.html", page_title="Erasure", preview=None, done=None, error=None,
                          reasons=REASONS)

    @app.post("/erasure/preview", response_class=HTMLResponse)
    def erasure_preview(request: Request, account: Annotated[Account, Depends(roles(*MAY_ERASE))],
                        nhs_number: Field = "", name: Field = "", dob: Field = "",
                        subject_ref: Field = "") -> HTMLResponse:
        try:
            ref = resolve_subject(c.pseudonymiser, subject_ref, nhs_number, name, dob)
        except SubjectNotGiven as exc:
            return shell.page(request, "erasure.html", status=422, page_title="Erasure", preview=None, done=None,
                              error=str(exc), reasons=REASONS)
        p = erase.preview(c.parts, ref)
        trail.record(store, "CONSULTATION", account.login, "erasure-preview", "IG officer previewed an erasure",
                     subject_ref=ref, details={"payloads": str(len(p.payloads))})
        return shell.page(request, "erasure.html", page_title="Erasure", preview=p, done=None, error=None,
                          reasons=REASONS)

    @app.post("/erasure/retention/preview", response_class=HTMLResponse)
    def retention_preview(request: Request,
                          account: Annotated[Account, Depends(roles(*MAY_ERASE))]) -> HTMLResponse:
        p = erase.retention_preview(c.parts)
        trail.record(store, "CONSULTATION", account.login, "retention-preview",
                     "IG officer previewed retention", details={"payloads": str(len(p.payloads))})
        return shell.page(request, "erasure.html", page_title="Erasure", preview=None, done=None, error=None,
                          reasons=REASONS, retention=p)

    @app.post("/erasure/retention/confirm", response_class=HTMLResponse)
    def retention_confirm(request: Request, account: Annotated[Account, Depends(roles(*MAY_ERASE))],
                          cutoff_ms: Annotated[int, Form()] = 0, confirm: Field = "") -> HTMLResponse:
        if confirm != "delete":
            raise Problem(422, "not-confirmed", "Tick the box to confirm the deletion.", field="confirm")
        if not 0 < cutoff_ms <= erase.retention_preview(c.parts).now_ms:
            raise Problem(422, "invalid-cutoff", "The preview's time is not valid; preview again.", field="cutoff_ms")
        removed, verification = erase.apply_retention(c.parts, c.integrity, account.login, cutoff_ms)
        return shell.page(request, "erasure.html", page_title="Erasure", preview=None, done=None, error=None,
                          reasons=REASONS, retention_done=(removed, verification))

    @app.post("/erasure/confirm", response_class=HTMLResponse)
    def erasure_confirm(request: Request, account: Annotated[Account, Depends(roles(*MAY_ERASE))],
                        subject_ref: Field = "", reason: Field = "", confirm: Field = "") -> HTMLResponse:
        try:
            ref = resolve_subject(c.pseudonymiser, subject_ref=subject_ref)
        except SubjectNotGiven as exc:
            raise Problem(422, "invalid-subject", str(exc), field="subject_ref") from None
        if reason not in REASONS:
            raise Problem(422, "invalid-reason", "Choose a reason from the list.", field="reason")
        if confirm != "erase":
            raise Problem(422, "not-confirmed", "Tick the box to confirm the erasure.", field="confirm")
        done = erase.erase(c.parts, c.integrity, ref, account.login, reason, c.publish)
        return shell.page(request, "erasure.html", page_title="Erasure", preview=None, done=done, error=None,
                          reasons=REASONS)
