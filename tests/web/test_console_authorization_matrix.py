"""Authorization matrix of the IG console: every route (enumerated from `app.routes`, so a new route cannot
escape this table) x every IG role, signed out, and a board member's session (as the board's cookie, as the
console's cookie and as a bearer token). Asserted: signed-out and board-member requests never reach a route's
logic (sign-in page or 401, nothing appended to the ledger); a role outside a route's list gets 403 and nothing
is appended; a role inside it is let through."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from eahub.audit.console.web.accounts import AUDITOR, MAY_DISCLOSE_SAR, MAY_ERASE, MAY_REVIEW, ROLES
from eahub.board.model import MEMBER
from tests.web.board_rig import make_web_rig
from tests.web.console_rig import HTML, ConsoleRig, csrf_of, make_console_rig

pytestmark = pytest.mark.integration
PUBLIC = {("GET", "/signin"), ("POST", "/signin"), ("POST", "/signout"), ("GET", "/healthz"), ("GET", "/metrics")}
ALL = ROLES
EXPECTED: dict[tuple[str, str], tuple[str, ...]] = {
    ("GET", "/"): ALL, ("POST", "/sar"): ALL,
    ("POST", "/sar/report.html"): MAY_DISCLOSE_SAR, ("POST", "/sar/report.pdf"): MAY_DISCLOSE_SAR,
    ("POST", "/sar/bundle"): MAY_DISCLOSE_SAR,
    ("GET", "/flows"): ALL, ("GET", "/flows/{name}.csv"): ALL,
    ("GET", "/reviews"): ALL, ("POST", "/reviews/{item_id}"): MAY_REVIEW,
    ("GET", "/integrity"): ALL, ("POST", "/integrity/verify"): ALL, ("POST", "/integrity/proof"): ALL,
    ("POST", "/integrity/proof.json"): ALL,
    ("GET", "/records"): ALL,
    ("GET", "/erasure"): MAY_ERASE, ("POST", "/erasure/preview"): MAY_ERASE, ("POST", "/erasure/confirm"): MAY_ERASE,
    ("POST", "/erasure/retention/preview"): MAY_ERASE, ("POST", "/erasure/retention/confirm"): MAY_ERASE,
}


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> ConsoleRig:
    return make_console_rig(tmp_path_factory.mktemp("console"))


def _routes(rig: ConsoleRig) -> list[tuple[str, str]]:
    out = []
    for route in rig.web.app.routes:
        if isinstance(route, Mount):
            continue
        assert isinstance(route, APIRoute), f"unexpected route type {route!r}"
        out += [(m, route.path) for m in sorted(route.methods or ())]
    return out


def _url(rig: ConsoleRig, path: str) -> str:
    return path.replace("{name}", "by-isa").replace("{item_id}", rig.seeded.self_claimed_entry_id)


def _form(rig: ConsoleRig, path: str, token: str) -> dict[str, str]:
    s = rig.seeded
    return {"csrf_token": token, "subject_ref": s.subject_ref, "entry_id": s.override_entry_id,
            "outcome": "upheld", "note": "matrix", "reason": "SUBJECT_REQUEST",
            "cutoff_ms": "1", **({"confirm": "no"} if "/confirm" in path else {})}  # never erase in the matrix


def _call(rig: ConsoleRig, c: TestClient, method: str, path: str, token: str) -> int:
    url = _url(rig, path)
    if method == "GET":
        return c.get(url, headers=HTML, follow_redirects=False).status_code
    return c.post(url, data=_form(rig, path, token), headers=HTML, follow_redirects=False).status_code


def test_every_route_is_in_the_matrix(rig: ConsoleRig) -> None:
    assert set(_routes(rig)) - PUBLIC == set(EXPECTED)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_reaches_exactly_its_routes(rig: ConsoleRig, role: str) -> None:
    c = rig.client(role)
    for method, path in EXPECTED:
        token = csrf_of(c.get("/", headers=HTML).text)
        before = rig.seeded.parts.store.size()
        status = _call(rig, c, method, path, token)
        if role in EXPECTED[(method, path)]:
            assert status not in (401, 403), (role, method, path, status)
        else:
            assert status == 403, (role, method, path, status)
            assert rig.seeded.parts.store.size() == before, (role, method, path)


def _assert_refused(rig: ConsoleRig, c: TestClient, token: str, **headers: str) -> None:
    for method, path in EXPECTED:
        before = rig.seeded.parts.store.size()
        url = _url(rig, path)
        if method == "GET":
            r = c.get(url, headers={**HTML, **headers}, follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"] == "/signin", (method, path, r.status_code)
        else:
            r = c.post(url, data=_form(rig, path, token), headers={**HTML, **headers}, follow_redirects=False)
            assert r.status_code in (401, 403), (method, path, r.status_code)
        assert rig.seeded.parts.store.size() == before, (method, path)


def test_signed_out_requests_never_reach_a_route(rig: ConsoleRig) -> None:
    c = TestClient(rig.web.app)
    token = csrf_of(c.get("/signin", headers=HTML).text)  # a pre-auth session's token: CSRF passes, sign-in not
    _assert_refused(rig, c, token)


def test_a_board_members_session_or_token_is_refused_everywhere(rig: ConsoleRig, tmp_path: Path) -> None:
    board = make_web_rig(tmp_path)
    agency = next(a for a, r in board.users if r == MEMBER)
    member = board.client(agency, MEMBER)
    board_cookie = next(iter(member.cookies.items()))
    name, session_id = board_cookie
    assert name == "eahub-board" and member.get("/", headers=HTML).status_code == 200
    assert board.users[(agency, MEMBER)].login not in {a.login for a in rig.web.shell.accounts.list()}
    for cookie_name in ("eahub-board", rig.web.shell.cookie_name):
        c = TestClient(rig.web.app, cookies={cookie_name: session_id})
        _assert_refused(rig, c, "not-a-console-token")
    c = TestClient(rig.web.app)
    _assert_refused(rig, c, "not-a-console-token", authorization=f"Bearer {session_id}")


def test_auditor_is_read_only(rig: ConsoleRig) -> None:
    assert AUDITOR not in MAY_REVIEW + MAY_ERASE + MAY_DISCLOSE_SAR
