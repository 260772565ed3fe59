"""`eahub board ...`: the board's click group. board-web adds `user` and `serve` (board/user_cli.py)."""

from __future__ import annotations

import click

from eahub.board.user_cli import serve, user


@click.group("board")
def board() -> None:
    """The Early Action boards: accounts, web app and workers."""


board.add_command(user)
board.add_command(serve)
