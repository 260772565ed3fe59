"""What the account commands of every web app (`eahub board user`, `eahub audit console user`) share: reading a
new password, adding an account with a clear error, disabling one. Each app keeps its own options and roles."""

from __future__ import annotations

import sys

import click

from eahub.core.web.accounts import Account, AccountError, Accounts

PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                              help="read the password from the first line of stdin")


def new_password(from_stdin: bool) -> str:
    """The first line of stdin, or a password prompted twice (never echoed)."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


def add_account(accounts: Accounts, login: str, agency: str, role: str, password_stdin: bool,
                email: str | None) -> Account:
    try:
        return accounts.add(login, agency, role, new_password(password_stdin), email=email)
    except AccountError as exc:
        raise click.ClickException(str(exc)) from None


def disable_account(accounts: Accounts, login: str) -> None:
    """Disable `login`; its sessions end at their next request."""
    if not accounts.disable(login):
        raise click.ClickException("login: no such account")
    click.echo(f"disabled {login}")
