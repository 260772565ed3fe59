"""Running services in threads until Ctrl-C or SIGTERM; a crash in one stops all, loudly."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from eahub.core.logging import get_logger

log = get_logger("eahub.hub")


def install_stop_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: object) -> None:
        log.info("stopping", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@dataclass
class ServiceThreads:
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    failures: list[tuple[str, BaseException]] = field(default_factory=list)

    def start(self, name: str, target: Callable[[threading.Event], None]) -> None:
        def guarded() -> None:
            try:
                target(self.stop)
            except BaseException as exc:
                log.exception("service crashed; stopping the hub", service=name)
                self.failures.append((name, exc))
                self.stop.set()

        t = threading.Thread(target=guarded, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def wait(self) -> None:
        while not self.stop.wait(0.2):
            pass

    def join(self, timeout_s: float = 15.0) -> None:
        for t in self.threads:
            t.join(timeout_s)


def run_until_signalled(target: Callable[[threading.Event], None]) -> None:
    """Run one service in the foreground until Ctrl-C or SIGTERM."""
    services = ServiceThreads()
    install_stop_signals(services.stop)
    services.start("service", target)
    services.wait()
    services.join()
    if services.failures:
        raise SystemExit(1)
