"""`eahub up`: the whole hub on the embedded default (broker, SQLite, regorus), or against an external Kafka /
PostgreSQL / OPA when configured; its services in threads of one process, or some of them (ingest, the router,
the audit service) each in a process of its own (`apart`; `eahub up`'s default, see `service_process`). The
composition root of the bundle."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from eahub.core import topics
from eahub.core.broker import EmbeddedBroker
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.logging import get_logger
from eahub.core.registry import agency_ids
from eahub.core.runner import ServiceThreads
from eahub.core.secrets import ensure_private_dir
from eahub.core.settings import HubSettings
from eahub.core.topic_guard import TopicGuard
from eahub.hub.service_process import APART, ServiceProcess, wait_running
from eahub.router.bootstrap import build_router
from eahub.router.bootstrap import subscribe as subscribe_router

# Only what the router's subscription needs is imported with this module: the rest of the hub (database, audit,
# ingest, the web stack) is imported by `start_hub` once the router's consumer is subscribed, so that its group
# join (about 1 s on the embedded broker) goes on meanwhile.
if TYPE_CHECKING:
    import uvicorn
    from fastapi.responses import PlainTextResponse

    from eahub.audit.console.bootstrap import ConsoleApp
    from eahub.audit.console.settings import ConsoleSettings
    from eahub.board.settings import BoardSettings
    from eahub.board.web.serve import BoardWeb
    from eahub.board.web.settings import BoardWebSettings
    from eahub.hub.break_glass import BreakGlass

log = get_logger("eahub.hub")


@dataclass
class RunningHub:
    settings: HubSettings
    services: ServiceThreads
    broker: EmbeddedBroker | None
    http: uvicorn.Server | None  # None: ingest runs in a process of its own (`apart`)
    break_glass: BreakGlass | None
    processes: list[ServiceProcess] = field(default_factory=list)  # the services run as processes of their own
    board: BoardWeb | None = None
    console: ConsoleApp | None = None
    console_publisher: KafkaPublisher | None = None
    endpoints: dict[str, str] = field(default_factory=dict)

    def wait_running(self, timeout_s: float = 60.0) -> bool:
        """Wait until every service process runs (see `service_process.wait_running`)."""
        return wait_running(self.processes, self.services.stop, timeout_s)

    def shutdown(self) -> None:
        self.services.stop.set()
        if self.http is not None:
            self.http.should_exit = True
        self.services.join()
        if self.break_glass is not None:
            self.break_glass.close()
        if self.board is not None:
            self.board.close()
        if self.console_publisher is not None:
            self.console_publisher.close()
        if self.broker is not None:
            self.broker.stop()


def _create_tables(settings: HubSettings) -> None:
    from eahub.hub.init import initialise  # SQLAlchemy and the services' tables, imported in the tables' thread

    initialise(settings)


def start_hub(settings: HubSettings, extra: dict[str, Callable[[threading.Event], None]] | None = None,
              board: BoardWebSettings | None = None, board_settings: BoardSettings | None = None,
              console: ConsoleSettings | None = None, apart: Collection[str] = (),
              stop: threading.Event | None = None) -> RunningHub:
    """The whole hub in threads. `board`: also run the Early Action boards (web app on its port, consumer, SLA
    sweeper, mailer, audit relay); `console`: also run the IG console (web app, scheduled verification) — as
    `eahub up` and `eahub demo` do; tests that need neither leave them out. `apart`: the services of `APART` to run
    each in a process of its own instead (ingest with break-glass; `RunningHub.wait_running` waits for them to
    run); with ingest apart the hub's /metrics (gathering those of the router's and audit's processes) are served
    on `metrics_port`, else on ingest's port. `stop`: the event its services stop on (a Ctrl-C during the start
    sets it; the start goes on, the caller then stops the hub)."""
    unknown = set(apart) - set(APART)
    if unknown:
        raise ValueError(f"no such service to run apart: {', '.join(sorted(unknown))} (one of {', '.join(APART)})")
    broker = None
    if settings.embedded_broker:
        ensure_private_dir(settings.data_dir)
    # `up` is the operator's one command, so it creates the tables: in a thread, while the broker starts and the
    # topics are created (none of them needs the others).
    pool = ThreadPoolExecutor(1, thread_name_prefix="hub-tables")
    tables = pool.submit(_create_tables, settings)
    pool.shutdown(wait=False)  # its thread ends with this one task
    services = ServiceThreads() if stop is None else ServiceThreads(stop=stop)
    consumer = None  # the router's, until its thread owns it
    children: list[ServiceProcess] = []
    try:
        if settings.embedded_broker:  # started from this thread, which the broker must not outlive
            broker = EmbeddedBroker(settings.broker_port, log_path=settings.data_dir / "broker.log").start()
        topics.create_topics(settings, agency_ids(settings.policies_dir))
        # The router first (after the topics: a subscription that matched none yet would join again once they
        # exist): its consumer group join goes on while the rest is imported and started.
        from eahub.core.metrics import CONTENT_TYPE, MetricsRegistry

        metrics = MetricsRegistry()
        if "router" not in apart:
            consumer = subscribe_router(settings)
            router_consumer = consumer

            def run_router(stop: threading.Event) -> None:
                # The router's own tables first; then the embedded Rego engine, which may only be used from the
                # thread that created it: built here while the rest of the hub is imported and started.
                tables.result()
                router = build_router(settings, consumer=router_consumer)
                router.register_metrics(metrics)
                router.run(stop)

            services.start("router", run_router)
            consumer = None
        if apart:
            tables.result()  # the services' tables, before their processes start (a router process first)
            children = [make(settings) for name, make in APART.items() if name in apart]
            for child in children:
                services.start(f"{child.name}-process", child.run)
        from fastapi.responses import PlainTextResponse

        def metrics_route() -> PlainTextResponse:  # the hub's own metrics and its service processes'
            gathered = [metrics.exposition(), *(child.metrics() or "" for child in children)]
            return PlainTextResponse("".join(gathered), media_type=CONTENT_TYPE)

        tables.result()
        if "audit" not in apart:
            from eahub.audit.bootstrap import build_audit_service

            audit = build_audit_service(settings)
            audit.register_metrics(metrics)
            services.start("audit", audit.run)
        break_glass, http = None, None
        if "ingest" in apart:
            from fastapi import FastAPI

            from eahub.core.web.serving import serve_until

            metrics_app = FastAPI(title="Early Action Hub metrics", docs_url=None, redoc_url=None, openapi_url=None)
            metrics_app.add_api_route("/metrics", metrics_route, methods=["GET"],
                                      summary="Prometheus metrics of the hub's services")
            services.start("metrics-http", lambda stop: serve_until(metrics_app, settings.http_host,
                                                                    settings.metrics_port, stop))
        else:
            import uvicorn

            from eahub.hub.break_glass import BreakGlass
            from eahub.ingest.bootstrap import build_app

            break_glass = BreakGlass(settings)
            app = build_app(settings, overrides=break_glass)
            app.add_api_route("/metrics", metrics_route, methods=["GET"],
                              summary="Prometheus metrics of the hub's services")
            http = uvicorn.Server(uvicorn.Config(app, host=settings.http_host, port=settings.http_port,
                                                 log_level="warning"))
            server = http
            services.start("ingest-http", lambda stop: server.run())
        services.start("topic-guard", TopicGuard(settings).run)  # recreates topics a restarted broker lost
    except BaseException:  # stop what already started (the router, say), then the broker
        services.stop.set()
        services.join()
        if consumer is not None:
            consumer.close()
        wait([tables])  # a failed start leaves no table half-created behind it
        if broker is not None:
            broker.stop()
        raise
    from sqlalchemy import make_url

    own = [name for name in APART if name in apart]
    endpoints = {
        "broker": f"{settings.bootstrap_servers}" + (" (embedded, memory storage)" if broker else " (external)"),
        "ingest": f"http://{settings.http_host}:{settings.http_port}/v1/events  (API docs: /docs"
                  + (", in a process of its own)" if "ingest" in apart else ", metrics: /metrics)"),
        **({"metrics": f"http://{settings.http_host}:{settings.metrics_port}/metrics  (router and audit"
                       + (f"; {' and '.join(own)} each in a process of its own)" if own else ")")}
           if "ingest" in apart else {}),
        "ledger": make_url(settings.ledger_url).render_as_string(hide_password=True),
        "policy": settings.opa_url or f"embedded regorus over {settings.policies_dir}",
    }
    hub = RunningHub(settings, services, broker, http, break_glass, processes=children, endpoints=endpoints)
    try:
        start_web_apps(hub, board, board_settings, console)
        for name, target in (extra or {}).items():
            services.start(name, target)
    except BaseException:
        hub.shutdown()
        raise
    return hub


def start_web_apps(hub: RunningHub, board: BoardWebSettings | None = None,
                   board_settings: BoardSettings | None = None, console: ConsoleSettings | None = None) -> None:
    """Start the Early Action boards and/or the IG console in a running hub's threads (`eahub demo` starts them
    after its decision tail, so that decisions need not wait for them). Each is imported only when started."""
    settings, services = hub.settings, hub.services
    if board is not None:
        from eahub.board.web.serve import build_board_web

        hub.board = build_board_web(settings, board, board_settings)
        for name, target in hub.board.runners().items():
            services.start(name, target)
        hub.endpoints["boards"] = (f"{hub.board.url}  (sign in with an account of `eahub board user add`; "
                                   "metrics: /metrics)")
    if console is not None:
        from eahub.audit.console.bootstrap import build_console

        hub.console_publisher = KafkaPublisher(producer_config(settings))  # erasure requests to the boards
        hub.console = build_console(settings, console, publish=hub.console_publisher.publish)
        for name, target in hub.console.runners().items():
            services.start(name, target)
        hub.endpoints["console"] = f"{hub.console.url}  (IG officers: `eahub audit console user add`)"
