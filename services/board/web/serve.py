"""The board's web composition: the shell over `board_users` in the board database, board-core's parts
(`build_board`) with the accounts table as their directory, the web app served by uvicorn, and
`start_board(settings)`, which runs the web app and the board's workers in threads (for `eahub board serve`,
`eahub up` and the browser tests)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from argon2 import PasswordHasher
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from eahub.board.bootstrap import BoardParts, board_url, build_board
from eahub.board.metrics import board_metrics
from eahub.board.settings import BoardSettings, SmtpSettings
from eahub.board.web.accounts import AccountsDirectory, board_shell
from eahub.board.web.app import create_board_app
from eahub.board.web.settings import BoardWebSettings
from eahub.core.database import make_engine
from eahub.core.logging import configure_logging, get_logger
from eahub.core.runner import ServiceThreads, install_stop_signals
from eahub.core.settings import HubSettings
from eahub.core.web.compose import create_tables
from eahub.core.web.serving import serve_until, wait_listening
from eahub.core.web.shell import Shell

log = get_logger("eahub.board.web")
Runner = Callable[[threading.Event], None]


@dataclass
class BoardWeb:
    app: FastAPI
    shell: Shell
    parts: BoardParts
    web_settings: BoardWebSettings

    @property
    def url(self) -> str:
        return f"http://{self.web_settings.http_host}:{self.web_settings.http_port}"

    def web_runner(self) -> Runner:
        """Serve the app until the stop event is set."""
        return lambda stop: serve_until(self.app, self.web_settings.http_host, self.web_settings.http_port, stop)

    def close(self) -> None:
        """Release the board's broker clients once the runners have stopped."""
        self.parts.close()

    def runners(self, with_workers: bool = True) -> dict[str, Runner]:
        out = {"board-web": self.web_runner()}
        if with_workers:
            out.update({f"board-{name}": r for name, r in self.parts.runners.items()})
        return out


def _metrics_registry(parts: BoardParts) -> CollectorRegistry:
    registry = CollectorRegistry()
    board_metrics(registry, parts.board)
    return registry


def build_board_web(settings: HubSettings, web_settings: BoardWebSettings | None = None,
                    board_settings: BoardSettings | None = None, smtp: SmtpSettings | None = None,
                    hasher: PasswordHasher | None = None, clock: Callable[[], datetime] | None = None) -> BoardWeb:
    web_settings = web_settings or BoardWebSettings()
    board_settings = (board_settings or BoardSettings()).model_copy(update={"base_url": web_settings.public_url})
    engine = make_engine(board_url(settings, board_settings))
    shell = board_shell(web_settings, engine, settings, hasher,
                        clock=(lambda: clock().timestamp()) if clock else time.time)
    create_tables(shell)
    parts = build_board(settings, board_settings, AccountsDirectory(shell.accounts), smtp, clock)
    app = create_board_app(shell, parts.board, settings.policies_dir, _metrics_registry(parts),
                           web_settings.queue_refresh_seconds)
    return BoardWeb(app, shell, parts, web_settings)


@dataclass
class RunningBoard:
    web: BoardWeb
    services: ServiceThreads = field(default_factory=ServiceThreads)

    @property
    def url(self) -> str:
        return self.web.url

    def shutdown(self, timeout_s: float = 10) -> None:
        self.services.stop.set()
        self.services.join(timeout_s)
        self.web.close()  # the activity producer: no reconnect noise once the broker has gone


def start_board(settings: HubSettings, web_settings: BoardWebSettings | None = None,
                board_settings: BoardSettings | None = None, smtp: SmtpSettings | None = None,
                with_workers: bool = True, hasher: PasswordHasher | None = None) -> RunningBoard:
    """Run the board web app (and, with_workers, the consumer, sweeper, mailer and relay) in threads; returns
    once the web server accepts connections. Call `.shutdown()` to stop. `eahub up` can call this after
    `start_hub`, or pass `build_board_web(...).runners()` to `start_hub(extra=...)`."""
    web = build_board_web(settings, web_settings, board_settings, smtp, hasher)
    running = RunningBoard(web)
    for name, runner in web.runners(with_workers).items():
        running.services.start(name, runner)
    wait_listening(web.web_settings.http_host, web.web_settings.http_port, "the board web app")
    log.info("board.web_started", url=web.url)
    return running


def serve_forever(with_workers: bool = False) -> None:
    """`eahub board serve`: settings from the environment, until Ctrl-C."""
    hub = HubSettings()
    configure_logging(hub.log_format, hub.log_level)
    running = start_board(hub, with_workers=with_workers)
    print(f"Early Action board: {running.url}")
    install_stop_signals(running.services.stop)  # Ctrl-C or SIGTERM: stop every runner, then close
    try:
        running.services.wait()
    finally:
        running.shutdown()
