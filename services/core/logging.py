"""One logging set-up for every service: structlog, JSON in production, console in development.

Bind correlation ids (event_id, decision_id) with `structlog.contextvars.bind_contextvars`.
Never pass payloads or personal data to a log call."""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import Any

import structlog

_format = "console"


class _Stderr:
    """Whatever `sys.stderr` is when a line is written, not the stream it was at set-up: a stream replaced since
    (pytest's capture, click's CliRunner) may be closed by then, and at interpreter shutdown it may be None."""

    def write(self, text: str) -> int:
        stream = sys.stderr
        return stream.write(text) if stream is not None else len(text)

    def flush(self) -> None:
        if sys.stderr is not None:
            sys.stderr.flush()


STDERR = _Stderr()


def configure_logging(fmt: str = "console", level: str = "info") -> None:
    """structlog for the hub's own lines; with `fmt="json"` every other writer of the process is routed to the
    same JSON lines too: the standard library's loggers (uvicorn's, with its default config rewritten to use
    this formatter, tracebacks included), librdkafka's own logs (see `kafka_logger`), and uncaught exceptions
    of the main and other threads."""
    global _format
    _format = fmt
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    _configure_stdlib(renderer, level)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=STDERR),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


get_logger = structlog.get_logger

_FOREIGN_CHAIN: list[structlog.types.Processor] = [
    structlog.stdlib.add_log_level, structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True), structlog.processors.format_exc_info,
]


def _configure_stdlib(renderer: structlog.types.Processor, level: str) -> None:
    formatter = structlog.stdlib.ProcessorFormatter(processor=renderer, foreign_pre_chain=_FOREIGN_CHAIN)
    handler = logging.StreamHandler(STDERR)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(logging.getLevelName(level.upper()))
    if _format != "json":
        return
    try:
        from uvicorn.config import LOGGING_CONFIG
    except ImportError:  # pragma: no cover - uvicorn is a dependency of ingest
        return
    # uvicorn applies its own dictConfig when a server is configured; point its formatters at ours (in place:
    # its Config's default argument is this very dict).
    for name in ("default", "access"):
        LOGGING_CONFIG["formatters"][name] = {"()": "structlog.stdlib.ProcessorFormatter", "processor": renderer,
                                              "foreign_pre_chain": _FOREIGN_CHAIN}
    log = structlog.get_logger("eahub")

    def on_uncaught(exc_type: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))

    def on_thread_uncaught(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            log.critical("uncaught exception in a thread", thread=getattr(args.thread, "name", None),
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = on_uncaught
    threading.excepthook = on_thread_uncaught


def kafka_logger() -> dict[str, Any]:
    """librdkafka's logs through the standard library (so as JSON lines in json mode), never raw on stderr."""
    return {"logger": logging.getLogger("eahub.librdkafka")}


def announce(message: str, err: bool = True) -> None:
    """A service's start-up line (on stderr, or stdout with err=False): as it is in console mode, one JSON
    object in json mode."""
    stream = sys.stderr if err else sys.stdout
    if _format == "json":
        line = json.dumps({"event": message, "level": "info", "logger": "eahub",
                           "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z")})
        print(line, file=stream, flush=True)
    else:
        print(message, file=stream, flush=True)
