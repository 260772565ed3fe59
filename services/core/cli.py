"""`eahub broker` and `eahub topics`: the embedded broker and the hub's topics."""

from __future__ import annotations

import signal
import sys

import click

from eahub.core import topics as topic_names
from eahub.core.broker import BrokerError, EmbeddedBroker
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings


@click.command()
@click.option("--port", type=int, default=None, help="listening port (default EAHUB_BROKER_PORT or 9092)")
def broker(port: int | None) -> None:
    """Run the embedded Kafka-compatible broker (Tansu, memory storage) in the foreground."""
    settings = HubSettings()
    b = EmbeddedBroker(port or settings.broker_port)
    try:
        b.start()
    except BrokerError as exc:
        raise click.ClickException(str(exc)) from None

    def on_sigterm(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt  # unwinds the wait below; the broker is stopped in `finally`

    signal.signal(signal.SIGTERM, on_sigterm)  # before the line that tells a supervisor the broker is up
    click.echo(f"embedded broker listening on {b.bootstrap} (memory storage: topics are lost on restart)")
    try:
        code = b.wait()
    except KeyboardInterrupt:
        code = 0
    finally:
        b.stop()
    sys.exit(code)


@click.group()
def topics() -> None:
    """Manage the hub's topics."""


@topics.command("create")
def topics_create() -> None:
    """Create every topic of the hub with its configured partitions; existing ones are left alone."""
    settings = HubSettings()
    result = topic_names.create_topics(settings, agency_ids(settings.policies_dir))
    for name, status in sorted(result.items()):
        click.echo(f"{status:8} {name}")
