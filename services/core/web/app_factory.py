"""`create_web_app(shell)`: a FastAPI app with server-side sessions, CSRF on every unsafe method, security
headers, problem pages, the shell's static files, `/healthz` and password sign-in/sign-out (plus OIDC when
configured). Apps (the board, later the IG console) add their routes to the app it returns."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from eahub.core.logging import get_logger
from eahub.core.web import security
from eahub.core.web.auth_routes import add_auth_routes
from eahub.core.web.csrf import csrf_guard
from eahub.core.web.oidc import OidcSignIn, add_oidc_routes, oidc_from_settings
from eahub.core.web.problems import Problem, from_http_exception, from_validation_error, problem_response, wants_html
from eahub.core.web.shell import Shell

STATIC_DIR = Path(__file__).parent / "static"
log = get_logger("eahub.web")


def _load_identity(shell: Shell, request: Request) -> None:
    session = shell.sessions.load(request.cookies.get(shell.cookie_name))
    account = None
    if session is not None and session.user_id is not None:
        account = shell.accounts.get(session.user_id)
        if account is None or not account.active:
            shell.sessions.delete(session.session_id)
            session, account = None, None
    request.state.session = session
    request.state.account = account


def create_web_app(shell: Shell, title: str, oidc: OidcSignIn | None = None) -> FastAPI:
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(csrf_guard)])
    app.state.shell = shell

    def on_problem(request: Request, p: Problem) -> Response:
        if p.status == 401 and request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": "/signin"})  # htmx polling after expiry
        if p.status == 401 and request.method == "GET" and wants_html(request):
            return RedirectResponse("/signin", status_code=303)
        return problem_response(request, p, shell.error_page)

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> Response:
        return await run_in_threadpool(on_problem, request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return await run_in_threadpool(on_problem, request, from_http_exception(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return await run_in_threadpool(on_problem, request, from_validation_error(exc))

    @app.middleware("http")
    async def _shell_middleware(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        request.state.session = None
        request.state.account = None
        try:
            if not path.startswith("/static/") and path != "/healthz":
                await run_in_threadpool(_load_identity, shell, request)
            response = await call_next(request)
        except Exception as exc:  # no input may stop the service; the page says nothing of the input
            log.error("web.unhandled", path_template=_route_template(request), error=type(exc).__name__)
            p = Problem(500, "internal", "Something went wrong on our side. Nothing was shown; try again.")
            response = await run_in_threadpool(problem_response, request, p, shell.error_page)
        security.apply(response.headers, path)
        return response

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    add_auth_routes(app, shell)
    oidc = oidc or oidc_from_settings(shell)
    if oidc is not None:
        add_oidc_routes(app, shell, oidc)
    return app


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))
