"""`eahub router`: run the router alone (against an external or already running broker)."""

from __future__ import annotations

import threading

import click

from eahub.core.logging import announce, configure_logging
from eahub.core.runner import run_until_signalled
from eahub.core.settings import HubSettings
from eahub.core.topic_guard import guarded


@click.command()
@click.option("--metrics-port", type=int, default=None,
              help="also serve the router's metrics on http://127.0.0.1:PORT/metrics once it runs (`eahub up` "
                   "gathers them into the hub's /metrics)")
def router(metrics_port: int | None) -> None:
    """Consume every inbound topic, decide, redact, route and audit."""
    from eahub.core.metrics import serve_metrics_of
    from eahub.router.bootstrap import build_router, subscribe

    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    consumer = subscribe(settings)  # first: its consumer group join goes on while the rest starts
    announce(f"router consuming eahub.inbound.* from {settings.bootstrap_servers}")

    def run(stop: threading.Event) -> None:
        # Built inside the service thread: the embedded Rego engine may only be used from its own thread.
        service = build_router(settings, consumer=consumer)
        serve_metrics_of(service.register_metrics, metrics_port)
        service.run(stop)

    run_until_signalled(guarded(settings, run))
