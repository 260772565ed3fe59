"""Password sign-in and sign-out for the shell. The sign-in form lives in a pre-auth session (so it carries a
CSRF token); a successful sign-in destroys that session and issues a new id (session fixation)."""

from __future__ import annotations

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from eahub.core.logging import get_logger
from eahub.core.web.problems import Problem
from eahub.core.web.sessions import Session
from eahub.core.web.shell import Shell

log = get_logger("eahub.web.auth")


def set_session_cookie(shell: Shell, response: Response, session: Session) -> None:
    response.set_cookie(shell.cookie_name, session.session_id, httponly=True, samesite="strict",
                        secure=shell.settings.secure_cookies, path="/",
                        max_age=int(shell.sessions.absolute_seconds))


def clear_session_cookie(shell: Shell, response: Response) -> None:
    response.delete_cookie(shell.cookie_name, path="/", httponly=True, samesite="strict",
                           secure=shell.settings.secure_cookies)


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def add_auth_routes(app: FastAPI, shell: Shell) -> None:
    @app.get("/signin")
    def signin_page(request: Request) -> Response:
        if request.state.account is not None:
            return RedirectResponse(shell.home_path, status_code=303)
        session = request.state.session or shell.sessions.create()
        request.state.session = session
        response = shell.page(request, "signin.html", error=None, login="")
        set_session_cookie(shell, response, session)
        return response

    @app.post("/signin")
    def signin(request: Request, login: str = Form(default="", max_length=200),
               password: str = Form(default="", max_length=1000)) -> Response:
        address = client_address(request)
        wait = shell.limiter.retry_after(login, address)
        if wait > 0:
            raise Problem(429, "signin-rate-limited", f"Too many sign-in attempts. Try again in {wait} seconds.",
                          headers={"Retry-After": str(wait)})
        account = shell.accounts.authenticate(login, password)
        if account is None:
            shell.limiter.record_failure(login, address)
            log.info("web.signin_failed")
            return shell.page(request, "signin.html", status=401, login=login,
                              error="The login or password is not right, or the account is disabled.")
        shell.limiter.reset_login(login)
        shell.sessions.purge_expired()  # housekeeping: expired rows go at each sign-in
        session = shell.sessions.rotate(request.state.session, account.user_id)
        log.info("web.signin", user_id=account.user_id, agency=account.agency)
        response = RedirectResponse(shell.home_path, status_code=303)
        set_session_cookie(shell, response, session)
        return response

    @app.post("/signout")
    def signout(request: Request) -> Response:
        session: Session | None = request.state.session
        if session is not None:
            shell.sessions.delete(session.session_id)
        response = RedirectResponse("/signin", status_code=303)
        clear_session_cookie(shell, response)
        return response
