"""OIDC sign-in against a real local OpenID provider: PyPI `oidc-provider-mock` (Flask/werkzeug, run in a thread
on a free port by the test). It signs real RS256 ID tokens and serves its JWKS; it does not enforce PKCE (it
ignores code_challenge), so PKCE is checked here only as far as what our client sends."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from fastapi.testclient import TestClient
from oidc_provider_mock import User, run_server_in_thread

from eahub.core.web.oidc import OidcSignIn, add_oidc_routes
from tests.web.shell_app import ShellApp, build

# the provider (not our client) uses a deprecated Authlib hook
pytestmark = [pytest.mark.integration, pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning")]
HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    users = [User(sub="ok-user", claims={"email": "dana@example.org", "preferred_username": "dana",
                                         "eahub_agency": "a2", "eahub_role": "manager"}),
             User(sub="bad-agency", claims={"email": "eve@example.org", "eahub_agency": "nowhere",
                                            "eahub_role": "member"}),
             User(sub="no-claims", claims={"email": "x@example.org"})]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


def oidc_app(tmp_path: Path, issuer: str) -> ShellApp:
    sa = build(tmp_path)
    add_oidc_routes(sa.app, sa.shell, OidcSignIn(issuer, "eahub-board", "s3cret",
                                                 "http://testserver/signin/oidc/callback", "eahub_agency",
                                                 "eahub_role"))
    return sa


def run_flow(c: TestClient, sub: str, tamper_state: bool = False) -> httpx.Response:
    start = c.get("/signin/oidc", follow_redirects=False)
    assert start.status_code == 303
    auth_url = start.headers["location"]
    q = parse_qs(urlparse(auth_url).query)
    assert q["code_challenge_method"] == ["S256"] and len(q["code_challenge"][0]) == 43
    assert q["nonce"][0] and q["state"][0]
    granted = httpx.post(auth_url, data={"sub": sub}, follow_redirects=False)
    assert granted.status_code in (302, 303), granted.text
    back = urlparse(granted.headers["location"])
    query = back.query
    if tamper_state:
        query = re.sub(r"state=[^&]+", "state=forged", query)
    return c.get(f"{back.path}?{query}", headers=HTML, follow_redirects=False)


def test_oidc_sign_in_provisions_the_account(tmp_path: Path, provider: str) -> None:
    sa = oidc_app(tmp_path, provider)
    with TestClient(sa.app) as c:
        r = run_flow(c, "ok-user")
        assert r.status_code == 200 and 'http-equiv="refresh"' in r.text
        home = c.get("/", headers=HTML)
        assert home.status_code == 200 and "dana" in home.text
    account = sa.shell.accounts.by_login("dana")
    assert account is not None and account.agency == "a2" and account.role == "manager" and account.external
    # a second sign-in updates, never duplicates
    with TestClient(sa.app) as c:
        assert run_flow(c, "ok-user").status_code == 200
    assert [a.login for a in sa.shell.accounts.list()].count("dana") == 1


def test_oidc_rejects_forged_state_and_disallowed_claims(tmp_path: Path, provider: str) -> None:
    sa = oidc_app(tmp_path, provider)
    with TestClient(sa.app) as c:
        assert run_flow(c, "ok-user", tamper_state=True).status_code == 403
        assert run_flow(c, "bad-agency").status_code == 403
        assert run_flow(c, "no-claims").status_code == 403
        assert c.get("/", follow_redirects=False).status_code == 401
    assert sa.shell.accounts.by_login("eve@example.org") is None


def test_oidc_rejects_a_token_for_another_client(tmp_path: Path, provider: str) -> None:
    sa = build(tmp_path)
    wrong = OidcSignIn(provider, "eahub-board", "s3cret", "http://testserver/signin/oidc/callback",
                       "eahub_agency", "eahub_role")
    add_oidc_routes(sa.app, sa.shell, wrong)
    with TestClient(sa.app) as c:
        start = c.get("/signin/oidc", follow_redirects=False)
        granted = httpx.post(start.headers["location"], data={"sub": "ok-user"}, follow_redirects=False)
        wrong.client_id = "some-other-client"  # the token's aud is eahub-board: must be refused
        back = urlparse(granted.headers["location"])
        r = c.get(f"{back.path}?{back.query}", headers=HTML, follow_redirects=False)
        assert r.status_code == 403

