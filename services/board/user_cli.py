"""`eahub board user add|list|disable` and `eahub board serve` (added to the `board` group of board/cli.py)."""

from __future__ import annotations

import click

from eahub.core.database import make_engine
from eahub.core.settings import HubSettings
from eahub.core.web.account_cli import PASSWORD_STDIN, add_account, disable_account
from eahub.core.web.accounts import Accounts


def _accounts() -> Accounts:
    from eahub.board.bootstrap import board_url
    from eahub.board.settings import BoardSettings
    from eahub.board.web.accounts import board_accounts

    hub = HubSettings()
    engine = make_engine(board_url(hub, BoardSettings()))
    accounts = board_accounts(engine, hub)
    accounts.create_tables()
    return accounts


@click.group("user")
def user() -> None:
    """Board accounts: add, list, disable."""


@user.command("add")
@click.option("--agency", required=True, help="agency id from policies/data/agencies.json")
@click.option("--role", required=True, type=click.Choice(["member", "manager", "readonly"]))
@click.option("--name", "login", required=True, help="the login")
@click.option("--email", default=None, help="address for notifications (optional)")
@PASSWORD_STDIN
def add(agency: str, role: str, login: str, email: str | None, password_stdin: bool) -> None:
    """Add a board account; the password is prompted twice (or read from stdin)."""
    account = add_account(_accounts(), login, agency, role, password_stdin, email)
    click.echo(f"added {account.login} ({account.role}, {account.agency})")


@user.command("list")
@click.option("--agency", default=None)
def list_users(agency: str | None) -> None:
    """List board accounts (login, agency, role, active)."""
    for a in _accounts().list(agency):
        click.echo(f"{a.login}\t{a.agency}\t{a.role}\t{'active' if a.active else 'disabled'}")


@user.command("disable")
@click.argument("login")
def disable(login: str) -> None:
    """Disable an account; its sessions end at their next request."""
    disable_account(_accounts(), login)


@click.command("serve")
@click.option("--workers/--no-workers", default=False, help="also run the consumer, sweeper, mailer and relay")
def serve(workers: bool) -> None:
    """Run the board web app with uvicorn on EAHUB_BOARD_HTTP_PORT (default 8081)."""
    from eahub.board.web.serve import serve_forever

    serve_forever(with_workers=workers)
