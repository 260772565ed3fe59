"""The parts a web app on the shell is built from, put together by that app's composition root."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from eahub.core.web.accounts import Account, Accounts
from eahub.core.web.problems import Problem
from eahub.core.web.ratelimit import SignInLimiter
from eahub.core.web.sessions import Session, SessionStore
from eahub.core.web.settings import WebSettings
from eahub.core.web.templating import render

if TYPE_CHECKING:
    from eahub.core.web.oidc import OidcSignIn


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    roles: tuple[str, ...] = ()  # empty = every signed-in role


@dataclass
class Shell:
    settings: WebSettings
    accounts: Accounts
    sessions: SessionStore
    limiter: SignInLimiter
    templates: Environment
    app_name: str
    cookie_base: str  # e.g. "eahub-board"
    home_path: str = "/"
    nav: list[NavItem] = field(default_factory=list)
    oidc: OidcSignIn | None = None

    @property
    def cookie_name(self) -> str:
        return f"__Host-{self.cookie_base}" if self.settings.secure_cookies else self.cookie_base

    def page(self, request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
        account: Account | None = getattr(request.state, "account", None)
        session: Session | None = getattr(request.state, "session", None)
        nav = [n for n in self.nav if account is not None and (not n.roles or account.role in n.roles)]
        html = render(self.templates, template, {
            "app_name": self.app_name, "account": account, "csrf_token": session.csrf_token if session else "",
            "nav": nav, "path": request.url.path, "oidc_enabled": self.oidc is not None, **context})
        return HTMLResponse(html, status_code=status)

    def error_page(self, request: Request, p: Problem) -> HTMLResponse:
        return self.page(request, "error.html", status=p.status, problem=p)


def current_account(request: Request) -> Account | None:
    account: Account | None = getattr(request.state, "account", None)
    return account


def require_account(request: Request) -> Account:
    """A FastAPI dependency: the signed-in account, else 401 (browsers are sent to the sign-in page)."""
    account = current_account(request)
    if account is None:
        raise Problem(401, "signin-required", "Sign in to see this page.")
    return account


def require_session(request: Request) -> Session:
    session: Session | None = getattr(request.state, "session", None)
    if session is None or session.user_id is None:
        raise Problem(401, "signin-required", "Sign in to see this page.")
    return session
