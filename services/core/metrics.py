"""In-process metrics, exposed in the Prometheus text format (`GET /metrics` on the hub's HTTP port).

Services register gauges as callables reading their own counters, so nothing is copied or double-counted;
a registry holds no personal data, only counts and ratios."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Gauge:
    name: str
    help: str
    read: Callable[[], float]
    kind: str = "gauge"


class MetricsRegistry:
    def __init__(self) -> None:
        self._gauges: dict[str, Gauge] = {}
        self._lock = threading.Lock()

    def register(self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge") -> None:
        with self._lock:
            self._gauges[name] = Gauge(name, help_text, read, kind)

    def values(self) -> dict[str, float]:
        with self._lock:
            gauges = list(self._gauges.values())
        return {g.name: float(g.read()) for g in gauges}

    def exposition(self) -> str:
        with self._lock:
            gauges = sorted(self._gauges.values(), key=lambda g: g.name)
        lines = []
        for g in gauges:
            lines += [f"# HELP {g.name} {g.help}", f"# TYPE {g.name} {g.kind}", f"{g.name} {float(g.read())}"]
        return "\n".join(lines) + "\n"
