"""Find a subject and their SAR: searched by POST (no identifier in any URL), the page a CONSULTATION, every
download (HTML report, PDF report, signed evidence bundle) a DISCLOSURE, also by POST with the pseudonym in the
form body."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from eahub.audit.bundle import export_bundle
from eahub.audit.console import trail
from eahub.audit.console.report import report_html, report_pdf
from eahub.audit.console.subject import SubjectNotGiven, resolve_subject, sar_view
from eahub.audit.console.web.accounts import MAY_DISCLOSE_SAR, ROLES
from eahub.audit.console.web.context import Console, roles
from eahub.audit.store import EntryFilter
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell

Field = Annotated[str, Form(max_length=200)]


def _subject_ref(c: Console, subject_ref: str) -> str:
    try:
        return resolve_subject(c.pseudonymiser, subject_ref=subject_ref)
    except SubjectNotGiven as exc:
        raise Problem(422, "invalid-subject", str(exc), field="subject_ref") from None


def _download(body: bytes | str, media: str, filename: str) -> Response:
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                     "Cache-Control": "no-store"})


def add_subject_routes(app: FastAPI, shell: Shell, c: Console) -> None:
    store = c.parts.store

    @app.get("/", response_class=HTMLResponse)
    def find(request: Request, account: Annotated[Account, Depends(roles(*ROLES))]) -> HTMLResponse:
        return shell.page(request, "find.html", page_title="Find a subject", error=None)

    @app.post("/sar", response_class=HTMLResponse)
    def sar(request: Request, account: Annotated[Account, Depends(roles(*ROLES))], nhs_number: Field = "",
            name: Field = "", dob: Field = "", subject_ref: Field = "") -> HTMLResponse:
        try:
            ref = resolve_subject(c.pseudonymiser, subject_ref, nhs_number, name, dob)
        except SubjectNotGiven as exc:
            return shell.page(request, "find.html", status=422, page_title="Find a subject", error=str(exc))
        view = sar_view(store, c.parts.vault, ref)
        trail.record(store, "CONSULTATION", account.login, "sar", "IG officer viewed a subject access record",
                     subject_ref=ref, details={"entries_shown": str(len(view.entries)),
                                               "payloads_shown": str(len(view.payloads))})
        return shell.page(request, "sar.html", page_title="Subject access record", view=view,
                          may_disclose=account.role in MAY_DISCLOSE_SAR)

    @app.post("/sar/report.html")
    def sar_report_html(account: Annotated[Account, Depends(roles(*MAY_DISCLOSE_SAR))],
                        subject_ref: Field = "") -> Response:
        ref = _subject_ref(c, subject_ref)
        view = sar_view(store, c.parts.vault, ref)
        trail.record(store, "DISCLOSURE", account.login, "sar-report-html", "SAR report exported (HTML)",
                     subject_ref=ref, details={"format": "html", "entries": str(len(view.entries))})
        return _download(report_html(shell.templates, view), "text/html; charset=utf-8", "subject-access-report.html")

    @app.post("/sar/report.pdf")
    def sar_report_pdf(account: Annotated[Account, Depends(roles(*MAY_DISCLOSE_SAR))],
                       subject_ref: Field = "") -> Response:
        ref = _subject_ref(c, subject_ref)
        view = sar_view(store, c.parts.vault, ref)
        trail.record(store, "DISCLOSURE", account.login, "sar-report-pdf", "SAR report exported (PDF)",
                     subject_ref=ref, details={"format": "pdf", "entries": str(len(view.entries))})
        return _download(report_pdf(view), "application/pdf", "subject-access-report.pdf")

    @app.post("/sar/bundle")
    def sar_bundle(account: Annotated[Account, Depends(roles(*MAY_DISCLOSE_SAR))],
                   subject_ref: Field = "") -> Response:
        ref = _subject_ref(c, subject_ref)
        rows = store.find(EntryFilter(subject_ref=ref))
        if not rows:
            raise Problem(404, "nothing-to-export", "The trail holds nothing about this subject.")
        # the export is recorded first, so the bundle's selection is exactly what the trail held before it
        trail.record(store, "DISCLOSURE", account.login, "sar-bundle", "signed evidence bundle exported",
                     subject_ref=ref, details={"format": "evidence-bundle", "entries": str(len(rows))})
        bundle = export_bundle(c.parts.checkpointer, rows, {"subject": ref})
        return _download(json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=False), "application/json",
                         "evidence-bundle.json")
