"""`eahub audit console init|serve|user add|list|disable` (registered on the `audit` group)."""

from __future__ import annotations

import click

from eahub.core.web.account_cli import PASSWORD_STDIN, add_account, disable_account
from eahub.core.web.accounts import Accounts


def _accounts() -> Accounts:
    from eahub.audit.console.web.accounts import console_accounts
    from eahub.core.database import make_engine
    from eahub.core.settings import HubSettings

    accounts = console_accounts(make_engine(HubSettings().ledger_url))
    accounts.create_tables()
    return accounts


@click.group("console")
def console() -> None:
    """The IG console: accounts and the web app."""


@console.command("init")
def init() -> None:
    """Create the console's tables in the audit database (idempotent)."""
    from eahub.audit.console.init import init_console
    from eahub.core.settings import HubSettings

    init_console(HubSettings())
    click.echo("IG console tables ready")


@console.command("serve")
@click.option("--publish-erasures/--no-publish-erasures", default=True,
              help="send erasure requests to the boards over Kafka")
def serve(publish_erasures: bool) -> None:
    """Run the IG console on EAHUB_CONSOLE_HTTP_PORT (default 8082) until Ctrl-C."""
    from eahub.audit.console.bootstrap import start_console
    from eahub.core.kafka import KafkaPublisher, producer_config
    from eahub.core.logging import configure_logging
    from eahub.core.runner import install_stop_signals
    from eahub.core.settings import HubSettings

    hub = HubSettings()
    configure_logging(hub.log_format, hub.log_level)
    publisher = KafkaPublisher(producer_config(hub)) if publish_erasures else None
    try:
        running = start_console(hub, publish=None if publisher is None else publisher.publish)
        click.echo(f"Early Action IG console: {running.url}")
        install_stop_signals(running.services.stop)  # Ctrl-C or SIGTERM: stop every runner
        try:
            running.services.wait()
        finally:
            running.shutdown()
    finally:
        if publisher is not None:
            publisher.close()


@console.group("user")
def user() -> None:
    """IG accounts: add, list, disable."""


@user.command("add")
@click.option("--role", required=True, type=click.Choice(["ig-officer", "caldicott-guardian", "dpo", "auditor"]))
@click.option("--name", "login", required=True, help="the login")
@click.option("--email", default=None)
@PASSWORD_STDIN
def add(role: str, login: str, email: str | None, password_stdin: bool) -> None:
    """Add an IG account; the password is prompted twice (or read from stdin)."""
    from eahub.audit.console.web.accounts import IG_AGENCY

    account = add_account(_accounts(), login, IG_AGENCY, role, password_stdin, email)
    click.echo(f"added {account.login} ({account.role})")


@user.command("list")
def list_users() -> None:
    """List IG accounts (login, role, active)."""
    for a in _accounts().list():
        click.echo(f"{a.login}\t{a.role}\t{'active' if a.active else 'disabled'}")


@user.command("disable")
@click.argument("login")
def disable(login: str) -> None:
    """Disable an IG account; its sessions end at their next request."""
    disable_account(_accounts(), login)
