"""`eahub ingest` as uvicorn serves it: the ingest app with break-glass, built by `app()` in every worker process
(settings from the environment), so that `--workers N` processes share one port. Each worker has its own
publisher and idempotency engine; the idempotency records are shared through the database (SQLite in WAL mode
with a busy timeout, or PostgreSQL), whose primary key keeps a claim unique across processes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from eahub.core.logging import configure_logging
from eahub.core.settings import HubSettings
from eahub.hub.break_glass import BreakGlass
from eahub.ingest.bootstrap import build_app

FACTORY = "eahub.hub.ingest_server:app"


def preflight() -> None:
    """Fail once, in the parent, on what would stop every worker at start (tables not created, say), instead of
    uvicorn's supervisor starting failing workers again and again."""
    BreakGlass(HubSettings()).close()


def app() -> FastAPI:
    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    break_glass = BreakGlass(settings)
    built = build_app(settings, overrides=break_glass)
    serve = built.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        try:
            async with serve(served):
                yield
        finally:
            break_glass.close()

    built.router.lifespan_context = lifespan
    return built
