"""`eahub init`: every table of the hub, created once by an owner role (the services never run DDL).
On the embedded default `eahub up` and `eahub demo` run it themselves."""

from __future__ import annotations

from eahub.audit.bootstrap import init_audit
from eahub.core.database import make_engine
from eahub.core.settings import HubSettings
from eahub.ingest.idempotency import create_tables as create_ingest_tables
from eahub.router.event_digests import create_tables as create_router_tables


def initialise(settings: HubSettings) -> None:
    init_audit(settings)
    engine = make_engine(settings.ledger_url)
    try:
        create_ingest_tables(engine)
        create_router_tables(engine)
    finally:
        engine.dispose()
