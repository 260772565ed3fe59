"""Integrity: the last verifications (scheduled and manual), "verify the trail" now, and the inclusion proof of
an entry (shown: a CONSULTATION; downloaded: a DISCLOSURE). Entry ids are ledger ids, not personal data."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from eahub.audit.console import trail
from eahub.audit.console.web.accounts import ROLES
from eahub.audit.console.web.context import Console, roles
from eahub.core.web.accounts import Account
from eahub.core.web.problems import Problem
from eahub.core.web.shell import Shell

ENTRY_ID = re.compile(r"^[0-9a-f-]{36}$")


def add_integrity_routes(app: FastAPI, shell: Shell, c: Console) -> None:
    store = c.parts.store

    def proof_of(entry_id: str) -> dict[str, object]:
        entry_id = entry_id.strip().lower()
        if not ENTRY_ID.match(entry_id):
            raise Problem(422, "invalid-entry-id", "An entry id is a UUID.", field="entry_id")
        proof = c.integrity.proof(entry_id)
        if proof is None:
            raise Problem(404, "not-found", "The trail has no entry with that id.")
        return proof

    @app.get("/integrity", response_class=HTMLResponse)
    def integrity(request: Request, account: Annotated[Account, Depends(roles(*ROLES))]) -> HTMLResponse:
        return shell.page(request, "integrity.html", page_title="Integrity", history=c.integrity.history(),
                          interval=c.settings.verify_interval_seconds, result=None, proof=None)

    @app.post("/integrity/verify", response_class=HTMLResponse)
    def verify(request: Request, account: Annotated[Account, Depends(roles(*ROLES))],
               full: Annotated[str, Form(max_length=5)] = "") -> HTMLResponse:
        """Incremental from the last verified head, as `eahub audit verify`; `full=1`: every entry re-verified."""
        if full not in ("", "1"):
            raise Problem(422, "invalid-full", "full is 1 or absent.", field="full")
        result = c.integrity.verify("manual", full=full == "1")
        trail.record(store, "CONSULTATION", account.login, "verify", "IG officer verified the trail",
                     details={"ok": str(result.ok).lower(), "entries": str(result.entries),
                              "mode": "incremental" if result.incremental else "full"})
        return shell.page(request, "integrity.html", page_title="Integrity", history=c.integrity.history(),
                          interval=c.settings.verify_interval_seconds, result=result, proof=None)

    @app.post("/integrity/proof", response_class=HTMLResponse)
    def proof(request: Request, account: Annotated[Account, Depends(roles(*ROLES))],
              entry_id: Annotated[str, Form(max_length=80)] = "") -> HTMLResponse:
        p = proof_of(entry_id)
        trail.record(store, "CONSULTATION", account.login, "proof", "IG officer viewed an inclusion proof",
                     details={"proven_entry_id": str(p["entry_id"])})
        return shell.page(request, "integrity.html", page_title="Integrity", history=c.integrity.history(),
                          interval=c.settings.verify_interval_seconds, result=None, proof=p,
                          proof_json=json.dumps(p, indent=1, sort_keys=True))

    @app.post("/integrity/proof.json")
    def proof_download(account: Annotated[Account, Depends(roles(*ROLES))],
                       entry_id: Annotated[str, Form(max_length=80)] = "") -> Response:
        p = proof_of(entry_id)
        trail.record(store, "DISCLOSURE", account.login, "proof-download", "inclusion proof exported",
                     details={"proven_entry_id": str(p["entry_id"])})
        return Response(json.dumps(p, indent=1, sort_keys=True), media_type="application/json",
                        headers={"Content-Disposition": 'attachment; filename="inclusion-proof.json"'})
