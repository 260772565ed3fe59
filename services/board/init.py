"""`init_board`: the owner's one-time DDL of the Early Action boards — the board database (cases, clocks, history,
the web shell's accounts, sessions and sign-in limits) and the separate keys database — for `eahub init` and
`eahub board init`. Idempotent."""

from __future__ import annotations

from eahub.board.bootstrap import board_url, keys_url, open_databases
from eahub.board.settings import BoardSettings
from eahub.core.settings import HubSettings


def init_board(settings: HubSettings, board_settings: BoardSettings | None = None) -> tuple[str, str]:
    """Create both board databases' tables; return their URLs (as configured, passwords included)."""
    from eahub.board.web.accounts import board_shell  # the shell's tables live in the board database
    from eahub.board.web.settings import BoardWebSettings
    from eahub.core.web.compose import create_tables

    board_settings = board_settings or BoardSettings()
    engine, keys_engine = open_databases(settings, board_settings)
    try:
        create_tables(board_shell(BoardWebSettings(), engine, settings))
    finally:
        engine.dispose()
        keys_engine.dispose()
    return board_url(settings, board_settings), keys_url(settings, board_settings)
