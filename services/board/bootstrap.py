"""The board's composition root: settings in, wired parts out (for `eahub board serve-workers`, `eahub up`
and the web layer). Settings are read here and nowhere else."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from eahub.board.activity import KafkaActivityPublisher
from eahub.board.crypto import KeyRing
from eahub.board.db import ms
from eahub.board.mailer import mailer_runner
from eahub.board.model import Directory, InMemoryDirectory
from eahub.board.outbox import relay_runner
from eahub.board.service import Board
from eahub.board.settings import BoardSettings, SmtpSettings
from eahub.board.sla import load_sla
from eahub.board.tables import init_board_db, init_keys_db
from eahub.core import secrets
from eahub.core.database import make_engine
from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.logging import get_logger
from eahub.core.settings import HubSettings

log = get_logger("eahub.board")
Runner = Callable[[threading.Event], None]


@dataclass
class BoardParts:
    engine: Engine
    keys_engine: Engine
    board: Board
    consumer: Runner
    sweeper: Runner
    mailer: Runner
    relay: Runner
    settings: BoardSettings = field(default_factory=BoardSettings)

    def close(self) -> None:
        """Release the broker client of the audit trail (after the runners have stopped)."""
        close = getattr(self.board.activity, "close", None)
        if close is not None:
            close()

    @property
    def runners(self) -> dict[str, Runner]:
        """Every background worker of the board, by name (what `eahub board serve-workers` runs)."""
        return {"consumer": self.consumer, "sweeper": self.sweeper, "mailer": self.mailer, "relay": self.relay}


def start_workers(parts: BoardParts, stop: threading.Event) -> list[threading.Thread]:
    """Start every board worker in its own daemon thread (for `eahub up` and `eahub board serve-workers`);
    they end when `stop` is set. Join them, then call `parts.close()`."""
    threads = [threading.Thread(target=run, args=(stop,), name=f"board-{name}", daemon=True)
               for name, run in parts.runners.items()]
    for t in threads:
        t.start()
    return threads


def board_url(settings: HubSettings, board_settings: BoardSettings) -> str:
    return board_settings.database_url or f"sqlite:///{(settings.data_dir / 'board.db').resolve()}"


def keys_url(settings: HubSettings, board_settings: BoardSettings) -> str:
    return board_settings.keys_database_url or f"sqlite:///{(settings.data_dir / 'board-keys.db').resolve()}"


def open_databases(settings: HubSettings, board_settings: BoardSettings) -> tuple[Engine, Engine]:
    """Both board databases, with their tables created (what `eahub board init` does)."""
    engine = make_engine(board_url(settings, board_settings))
    keys_engine = make_engine(keys_url(settings, board_settings))
    init_board_db(engine)
    init_keys_db(keys_engine)
    return engine, keys_engine


def build_board(settings: HubSettings, board_settings: BoardSettings | None = None,
                directory: Directory | None = None, smtp: SmtpSettings | None = None,
                clock: Callable[[], datetime] | None = None) -> BoardParts:
    """Wire the board. `directory` is the accounts adapter of the web layer (an empty in-memory one when
    not given: nobody is notified)."""
    board_settings = board_settings or BoardSettings()
    smtp = smtp or SmtpSettings()
    clock = clock or (lambda: datetime.now(UTC))
    engine, keys_engine = open_databases(settings, board_settings)
    master = secrets.read_or_create(settings.data_dir / "secrets" / "board-master.key")
    publisher = KafkaActivityPublisher(KafkaPublisher(producer_config(settings, **{"message.timeout.ms": 10000}),
                                                      timeout_s=10.0))
    board = Board(
        engine=engine, keyring=KeyRing(keys_engine, master), activity=publisher,
        directory=directory or InMemoryDirectory(), sla=load_sla(board_settings.sla_file, board_settings.time_scale),
        base_url=board_settings.base_url, clock=clock, retention_days=board_settings.retention_days)

    def clock_ms() -> int:
        return ms(clock())

    def consumer(stop: threading.Event) -> None:
        from confluent_kafka import Consumer

        from eahub.board.consumer import SUBSCRIPTION, BoardConsumer
        from eahub.core.kafka import consumer_config

        kafka_consumer = Consumer(consumer_config(settings, board_settings.consumer_group,
                                                  **{"topic.metadata.refresh.interval.ms": 5000}))
        kafka_consumer.subscribe(SUBSCRIPTION)
        BoardConsumer(kafka_consumer, KafkaPublisher(producer_config(settings)), board,
                      board_settings.batch_size).run(stop)

    def sweeper(stop: threading.Event) -> None:
        last_retention = 0.0
        while not stop.is_set():
            try:
                result = board.sweep()
                if result.fired:
                    log.info("sla sweep", warned=result.warned, breached=result.breached,
                             escalated=result.escalated, notifications=result.notifications)
                if clock_ms() - last_retention > 3_600_000:
                    board.apply_retention()
                    last_retention = clock_ms()
            except Exception as exc:  # a database hiccup must not end the clock
                log.warning("sla sweep failed; retrying", error=type(exc).__name__)
            stop.wait(board_settings.sweep_interval_seconds)

    return BoardParts(
        engine=engine, keys_engine=keys_engine, board=board, consumer=consumer, sweeper=sweeper,
        mailer=mailer_runner(engine, smtp, clock_ms, board_settings.mail_interval_seconds),
        relay=relay_runner(engine, publisher, clock_ms, board_settings.relay_interval_seconds),
        settings=board_settings)
