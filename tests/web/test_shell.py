"""The web shell against a real SQLite database and FastAPI's TestClient: cookie flags, idle and absolute
expiry (controllable clock), session fixation, CSRF, rate limit, sign-out, headers, problem pages, htmx file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Literal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from eahub.core.web.accounts import AccountError, Accounts, cheap_hasher
from eahub.core.web.sessions import digest
from tests.web.shell_app import PASSWORD, ShellApp, build

pytestmark = pytest.mark.integration
HTMX_SHA256 = "d6fdc75f204e6bdefa99b69bf1e6d4ac69b8a364f77929f45c13476b4000f717"  # npm htmx.org@2.0.11
HTML = {"accept": "text/html"}


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf token in page"
    return m.group(1)


def sign_in(client: TestClient, login: str = "alice", password: str = PASSWORD) -> str:
    page = client.get("/signin", headers=HTML)
    r = client.post("/signin", data={"login": login, "password": password, "csrf_token": csrf_of(page.text)},
                    headers=HTML, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/", headers=HTML).text)


@pytest.fixture
def sa(tmp_path: Path) -> ShellApp:
    return build(tmp_path)


def test_htmx_is_the_pinned_release() -> None:
    path = Path(__file__).resolve().parents[2] / "services/core/web/static/htmx.min.js"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == HTMX_SHA256


def test_cookie_flags_and_secure_on_https(tmp_path: Path) -> None:
    sa = build(tmp_path)
    with TestClient(sa.app) as c:
        cookie = c.get("/signin", headers=HTML).headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie
    sa2 = build(tmp_path / "s", base_url="https://board.example")
    with TestClient(sa2.app, base_url="https://testserver") as c:
        cookie = c.get("/signin", headers=HTML).headers["set-cookie"]
    assert cookie.startswith("__Host-eahub-t=") and "Secure" in cookie


def test_cookie_holds_only_a_random_id_stored_hashed(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        sign_in(c)
        sid = c.cookies.get("eahub-t")
    assert sid and len(sid) >= 43
    with sa.engine.connect() as conn:
        rows = conn.execute(select(sa.shell.sessions.table.c.id_sha256)).scalars().all()
    assert digest(sid) in rows and sid not in rows


def test_sign_in_rotates_the_session_id(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        page = c.get("/signin", headers=HTML)
        pre = c.cookies.get("eahub-t")
        c.post("/signin", data={"login": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)})
        post = c.cookies.get("eahub-t")
        assert pre and post and pre != post
        assert sa.shell.sessions.load(pre) is None  # the pre-auth id is dead: fixation impossible
    with TestClient(sa.app, cookies={"eahub-t": pre}) as attacker:
        assert attacker.get("/", headers=HTML, follow_redirects=False).status_code == 303


def test_idle_and_absolute_expiry(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        sign_in(c)
        sa.clock.now += 29 * 60
        assert c.get("/", headers=HTML).status_code == 200
        sa.clock.now += 31 * 60  # idle for 31 min
        r = c.get("/", headers=HTML, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/signin"
        sign_in(c)
        for _ in range(12 * 3 + 1):  # active every 20 minutes, past 12 hours
            sa.clock.now += 20 * 60
            last = c.get("/", headers=HTML, follow_redirects=False)
        assert last.status_code == 303


def test_csrf_required_on_every_unsafe_request(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        token = sign_in(c)
        assert c.post("/change").status_code == 403
        assert c.post("/change", data={"csrf_token": "wrong"}).status_code == 403
        r = c.post("/change", headers={"X-CSRF-Token": "nope", **HTML})
        assert r.status_code == 403 and "<h1>Form expired</h1>" in r.text
        assert c.post("/signout").status_code == 403
        assert sa.changes == []
        assert c.post("/change", data={"csrf_token": token}).status_code == 200
        assert c.post("/change", headers={"X-CSRF-Token": token}).status_code == 200
        assert sa.changes == ["alice", "alice"]


def test_sign_in_form_needs_csrf(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        c.get("/signin", headers=HTML)
        r = c.post("/signin", data={"login": "alice", "password": PASSWORD})
        assert r.status_code == 403


def test_rate_limit_per_login_and_address(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        token = csrf_of(c.get("/signin", headers=HTML).text)
        for _ in range(5):
            r = c.post("/signin", data={"login": "alice", "password": "bad password", "csrf_token": token})
            assert r.status_code == 401
        r = c.post("/signin", data={"login": "alice", "password": PASSWORD, "csrf_token": token}, headers=HTML)
        assert r.status_code == 429 and 0 < int(r.headers["retry-after"]) <= 300
        assert "Too many" in r.text
        sa.clock.now += 301
        r = c.post("/signin", data={"login": "alice", "password": PASSWORD, "csrf_token": token},
                   follow_redirects=False)
        assert r.status_code == 303


def test_rate_limit_is_shared_through_the_database(tmp_path: Path) -> None:
    one = build(tmp_path)
    from eahub.core.web.ratelimit import SignInLimiter
    other = SignInLimiter(one.engine, "t_signin_attempts", 5, 300, one.clock)  # a second process's limiter
    for _ in range(5):
        other.record_failure("alice", "10.9.9.9")
    assert one.shell.limiter.retry_after("alice", "127.0.0.1") > 0
    assert one.shell.limiter.retry_after("bob", "10.9.9.9") > 0
    assert one.shell.limiter.retry_after("bob", "127.0.0.1") == 0


def test_sign_out_deletes_the_session(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        token = sign_in(c)
        sid = c.cookies.get("eahub-t")
        r = c.post("/signout", data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303
        assert sa.shell.sessions.load(sid) is None
    with TestClient(sa.app, cookies={"eahub-t": sid}) as c2:
        assert c2.get("/", follow_redirects=False).status_code == 401


def test_disabled_account_loses_its_session(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        sign_in(c)
        sa.shell.accounts.disable("alice")
        assert c.get("/", follow_redirects=False).status_code == 401


def test_security_headers_and_cache(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        page = c.get("/signin", headers=HTML)
        static = c.get("/static/htmx.min.js")
        missing = c.get("/no/such/page", headers=HTML)
    for r in (page, static, missing):
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert "max-age=31536000" in static.headers["cache-control"]
    assert missing.status_code == 404 and "<h1>Page not found</h1>" in missing.text
    assert "<script>" not in page.text  # no inline script


def test_problem_json_for_api_clients(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        r = c.get("/nothing-here", headers={"accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["status"] == 404 and r.json()["type"].startswith("urn:eahub:problem:")


def test_unknown_login_costs_a_verify_and_wrong_password_fails(tmp_path: Path) -> None:
    sa = build(tmp_path)
    from argon2 import PasswordHasher
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
            calls.append(str(hash))
            return super().verify(hash, password)

    acc = Accounts(sa.engine, "t_users", ("member",), hasher=Counting(time_cost=1, memory_cost=8, parallelism=1))
    assert acc.authenticate("nobody", "whatever") is None
    assert acc.authenticate("alice", "wrong") is None
    assert acc.authenticate("alice", PASSWORD) is not None
    assert len(calls) == 3


def test_rehash_on_parameter_change(tmp_path: Path) -> None:
    sa = build(tmp_path)
    from argon2 import PasswordHasher
    stronger = Accounts(sa.engine, "t_users", ("member", "manager"), hasher=PasswordHasher(
        time_cost=2, memory_cost=16, parallelism=1))
    before = _hash_of(sa, "alice")
    assert stronger.authenticate("alice", PASSWORD) is not None
    after = _hash_of(sa, "alice")
    assert before != after and "t=2" in after


def _hash_of(sa: ShellApp, login: str) -> str:
    t = sa.shell.accounts.table
    with sa.engine.connect() as conn:
        return str(conn.execute(select(t.c.password_hash).where(t.c.login == login)).scalar_one())


def test_account_rules(tmp_path: Path) -> None:
    sa = build(tmp_path)
    acc = sa.shell.accounts
    with pytest.raises(AccountError, match="role"):
        acc.add("bob", "a1", "admin", PASSWORD)
    with pytest.raises(AccountError, match="agency"):
        acc.add("bob", "nowhere", "member", PASSWORD)
    with pytest.raises(AccountError, match="login"):
        acc.add("alice", "a1", "member", PASSWORD)
    acc.add("bob", "a2", "manager", PASSWORD, email="bob@example.org")
    assert [a.login for a in acc.list()] == ["alice", "bob"]
    assert [a.login for a in acc.of_agency("a2", ["manager"])] == ["bob"]
    assert acc.disable("bob")
    bob = acc.by_login("bob")
    assert bob is not None and not bob.active
    assert acc.authenticate("bob", PASSWORD) is None
    assert cheap_hasher().time_cost == 1


def test_htmx_poll_after_expiry_is_told_to_sign_in(sa: ShellApp) -> None:
    with TestClient(sa.app) as c:
        r = c.get("/", headers={"hx-request": "true", "accept": "text/html"}, follow_redirects=False)
    assert r.status_code == 401 and r.headers["hx-redirect"] == "/signin"


@pytest.mark.postgres
def test_shell_stores_on_postgres(postgres_url: str) -> None:
    from eahub.core.database import make_engine
    from eahub.core.web.compose import create_tables, make_shell
    from eahub.core.web.settings import WebSettings
    from tests.web.shell_app import FakeClock

    clock = FakeClock()
    shell = make_shell(WebSettings(), make_engine(postgres_url), "pgt", ("member",), "PG", hasher=cheap_hasher(),
                       clock=clock)
    create_tables(shell)
    account = shell.accounts.add("pat", "a", "member", PASSWORD)
    assert shell.accounts.authenticate("pat", PASSWORD) == account
    assert [a.login for a in shell.accounts.of_agency("a", ["member"])] == ["pat"]
    pre = shell.sessions.create()
    s = shell.sessions.rotate(pre, account.user_id)
    assert shell.sessions.load(pre.session_id) is None and shell.sessions.load(s.session_id) is not None
    clock.now += 31 * 60
    assert shell.sessions.load(s.session_id) is None
    for _ in range(5):
        shell.limiter.record_failure("pat", "127.0.0.1")
    assert shell.limiter.retry_after("pat", "10.0.0.1") > 0
    assert shell.accounts.disable("pat") and shell.accounts.authenticate("pat", PASSWORD) is None


def test_an_unhandled_error_is_a_plain_500_page_with_headers(sa: ShellApp) -> None:
    with TestClient(sa.app, raise_server_exceptions=False) as c:
        page = c.get("/boom", headers=HTML)
        api = c.get("/boom")
    assert page.status_code == 500 and "<h1>Something went wrong</h1>" in page.text
    assert "Alex Example" not in page.text and "secret detail" not in page.text
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"
    assert api.status_code == 500 and api.json()["status"] == 500 and "Alex" not in api.text
