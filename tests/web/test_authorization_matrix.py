"""Authorization matrix: every route of the board app (enumerated from `app.routes`, so a new route cannot
escape) x every agency x every role x signed in/out, against two cases of one board (one NEW, one CLOSED).

Asserted: zero reads of another agency's cases (no content, no CONSULTATION/ACTION by another agency, the same 404
page as for a case that does not exist), zero state changes without the right role (read-only: none; a member:
no manager-only command; another agency: none), zero personal data (name, NHS number, narrative) in any 4xx page,
and signed-out requests never reach a route's logic."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from starlette.routing import Mount

from eahub.board import tables
from eahub.board.lifecycle import COMMANDS, MANAGER_ONLY, RULES
from eahub.board.model import MANAGER, MEMBER, READONLY, ROLES
from tests.web.board_rig import AGENCIES, HTML, WebRig, csrf_of, make_web_rig, routed_case

pytestmark = pytest.mark.integration
OWN = "lancashire-cc-adults"
PERSONAL = ("Alex Example", "9434765919", "Caller worried about neighbour in crisis", "12 Example Street")
PUBLIC = {"/signin", "/healthz", "/metrics", "/signin/oidc", "/signin/oidc/callback"}
MISSING = "ffffffff-ffff-ffff-ffff-ffffffffffff"
KNOWN_PARAMS = {"case_id", "name", "action_id", "path"}


def _prepare(rig: WebRig) -> dict[str, str]:
    new = routed_case(recipient=OWN, subject_ref="subj-new")
    closed = routed_case(recipient=OWN, subject_ref="subj-closed")
    for case in (new, closed):
        assert rig.board.store_case(case)
    from eahub.board.web.accounts import person
    from tests.board_support import actor as actor_of

    mgr = actor_of(person(rig.users[(OWN, MANAGER)]))
    member = rig.users[(OWN, MEMBER)]
    cid = str(closed["case_id"])
    rig.board.command(mgr, cid, "claim", {})
    rig.board.command(mgr, cid, "acknowledge", {})
    rig.board.command(mgr, cid, "record_visit", {"agencies": [OWN]})
    rig.board.command(mgr, cid, "close", {"outcome": "NO_FURTHER_ACTION", "text": "done"})
    action_id = rig.board.add_action(mgr, str(new["case_id"]), "ring the GP", member.user_id,
                                     rig.clock.now + timedelta(days=1))
    return {"new": str(new["case_id"]), "closed": cid, "action": action_id, "member": member.user_id}


def _snapshot(rig: WebRig) -> tuple[Any, ...]:
    with rig.board.engine.connect() as conn:
        cases = conn.execute(select(tables.cases.c.case_id, tables.cases.c.state, tables.cases.c.version,
                                    tables.cases.c.owner_user_id).order_by(tables.cases.c.case_id)).all()
        counts = tuple(conn.execute(select(func.count()).select_from(t)).scalar_one()
                       for t in (tables.notes, tables.actions, tables.visits, tables.history))
        statuses = conn.execute(select(tables.actions.c.status)).scalars().all()
    return tuple(map(tuple, cases)), counts, tuple(statuses)


def _requests(rig: WebRig, ids: dict[str, str]) -> list[tuple[str, str, str]]:
    """(method, url, command name or '') for every route; every path parameter must be known here."""
    out: list[tuple[str, str, str]] = []
    for route in rig.app.routes:
        if isinstance(route, Mount):
            out.append(("GET", route.path + "/app.css", ""))
            continue
        assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
        params = set(re.findall(r"{(\w+)}", route.path))
        assert params <= KNOWN_PARAMS, f"route {route.path} has a path parameter the matrix does not know"
        for method in sorted(route.methods or ()):
            for case in (["new", "closed"] if "case_id" in params else [""]):
                names = list(COMMANDS) if "name" in params else [""]
                for name in names:
                    url = route.path.replace("{case_id}", ids.get(case, "")).replace("{name}", name)
                    url = url.replace("{action_id}", ids["action"])
                    out.append((method, url, name))
    return out


def _form(token: str, ids: dict[str, str]) -> dict[str, Any]:
    return {"csrf_token": token, "purpose": "triage", "purpose_reason": "matrix", "text": "a note text",
            "reason": "matrix reason", "to_user_id": ids["member"], "agencies": [OWN],
            "planned_at": "2026-11-21T10:00", "visited_at": "2026-11-20T17:00", "plan": "plan text",
            "week": "2", "outcome": "NO_FURTHER_ACTION", "owner_user_id": ids["member"],
            "due": "2026-11-22T10:00", "status": "done", "login": "x", "password": "y"}


def _allowed_to_change(agency: str | None, role: str | None, name: str) -> bool:
    if agency != OWN or role not in (MEMBER, MANAGER):
        return False
    return not (name and RULES[name].who == MANAGER_ONLY and role != MANAGER)


WHO = [(a, r) for a in AGENCIES for r in ROLES] + [(None, None)]


@pytest.mark.parametrize(("agency", "role"), WHO, ids=[f"{a}-{r}" if a else "signed-out" for a, r in WHO])
def test_matrix(tmp_path: Path, agency: str | None, role: str | None) -> None:
    rig = make_web_rig(tmp_path)
    ids = _prepare(rig)
    requests = _requests(rig, ids)
    assert len(requests) > 30
    with TestClient(rig.app) as c:
        if agency is not None:
            from tests.web.board_rig import sign_in
            sign_in(c, rig.users[(agency, str(role))].login)
        token = csrf_of(c.get("/signin", headers=HTML).text) if agency is None else \
            csrf_of(c.get("/", headers=HTML).text)
        missing_page = c.get(f"/cases/{MISSING}", headers=HTML)
        for method, url, name in requests:
            if url == "/signout" or url.startswith("/signin"):
                continue  # exercised by the shell's tests; signing out here would end the matrix session
            before = _snapshot(rig)
            r = c.request(method, url, headers=HTML, data=_form(token, ids) if method == "POST" else None,
                          follow_redirects=False)
            after = _snapshot(rig)
            where = f"{method} {url} as {agency}/{role}: {r.status_code}"
            assert r.status_code < 500, where
            if r.status_code >= 400:
                for secret in PERSONAL:
                    assert secret not in r.text, where + f" leaks {secret!r}"
            if before != after:
                assert _allowed_to_change(agency, role, name) or (
                    url.endswith(("/notes", "/actions", "/status")) and _allowed_to_change(agency, role, "")
                ), where + " changed state"
            if agency is None and url not in PUBLIC and not url.startswith("/static/"):
                assert r.status_code in (303, 401, 403), where
                assert before == after, where
            if agency not in (OWN, None) and (ids["new"] in url or ids["closed"] in url):
                assert r.status_code in (403, 404, 422), where
                ghost_url = url.replace(ids["new"], MISSING).replace(ids["closed"], MISSING)
                ghost = c.request(method, ghost_url, headers=HTML,
                                  data=_form(token, ids) if method == "POST" else None, follow_redirects=False)
                assert ghost.status_code == r.status_code, where + ": another agency's case is distinguishable"
                if method == "GET":
                    assert r.text == missing_page.text, where + ": another agency's case is distinguishable"
            if agency == OWN and role == READONLY and method == "POST":
                assert before == after, where
    for record in rig.audit.records:
        assert record["agency"] == OWN, f"{record['kind']} by another agency: zero reads allowed"
    if agency == OWN and role == MANAGER:
        assert rig.audit.of_kind("CONSULTATION") and rig.audit.of_kind("ACTION")  # the matrix is not vacuous
