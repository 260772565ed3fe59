"""`eahub router`: run the router alone (against an external or already running broker)."""

from __future__ import annotations

import click

from eahub.core.logging import announce, configure_logging
from eahub.core.runner import run_until_signalled
from eahub.core.settings import HubSettings
from eahub.core.topic_guard import guarded


@click.command()
def router() -> None:
    """Consume every inbound topic, decide, redact, route and audit."""
    from eahub.router.bootstrap import build_router

    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    announce(f"router consuming eahub.inbound.* from {settings.bootstrap_servers}")
    # Built inside the service thread: the embedded Rego engine may only be used from its own thread.
    run_until_signalled(guarded(settings, lambda stop: build_router(settings).run(stop)))
