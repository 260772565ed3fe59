"""`eahub board ...`: the Early Action board's commands. The web engineer adds `board serve` and
`board user ...` to this group from `board/user_cli.py`."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from types import FrameType

import click

from eahub.board.user_cli import serve, user


@click.group()
def board() -> None:
    """The Early Action boards: cases, clocks, notifications."""


@board.command()
def init() -> None:
    """Create the board database (with its accounts tables) and the separate keys database (`eahub init` does
    this too)."""
    from eahub.board.init import init_board
    from eahub.core.settings import HubSettings

    board_db, keys_db = init_board(HubSettings())
    click.echo(f"board database ready: {_safe(board_db)}")
    click.echo(f"keys database ready: {_safe(keys_db)}")


@board.command()
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="file to write (must not exist)")
def backup(out: Path) -> None:
    """Copy the board database (never the keys) to FILE."""
    from eahub.board.backup import BackupNotSupported
    from eahub.board.backup import backup as do_backup
    from eahub.board.bootstrap import open_databases
    from eahub.board.settings import BoardSettings
    from eahub.core.settings import HubSettings

    engine, _keys = open_databases(HubSettings(), BoardSettings())
    try:
        do_backup(engine, out)
    except (BackupNotSupported, FileExistsError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"board database backed up to {out} (keys are not in it)")


@board.command("serve-workers")
def serve_workers() -> None:
    """Run the board's workers (consumer, SLA sweeper, mailer, audit relay) until interrupted; no web."""
    from eahub.board.bootstrap import build_board, start_workers
    from eahub.core.logging import configure_logging, get_logger
    from eahub.core.settings import HubSettings

    settings = HubSettings()
    configure_logging(settings.log_format, settings.log_level)
    parts = build_board(settings)
    stop = threading.Event()

    def on_signal(_sig: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    threads = start_workers(parts, stop)
    get_logger("eahub.board").info("board workers running", workers=sorted(parts.runners))
    while not stop.wait(0.5):
        if not all(t.is_alive() for t in threads):
            stop.set()
            for t in threads:
                t.join(20)
            raise click.ClickException("a board worker stopped; see the log")
    for t in threads:
        t.join(20)
    parts.close()


def _safe(url: str) -> str:
    """A database URL without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# board-web's commands (board/user_cli.py)
board.add_command(user)
board.add_command(serve)
