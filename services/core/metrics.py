"""Metrics in the Prometheus text format (`GET /metrics`), through prometheus_client with a private registry
per running hub (never the global default, so tests and several hubs in one process do not mix).

Services register counters and gauges as callables reading their own counters, so nothing is copied or
double-counted; other collectors (e.g. the boards' labelled metrics) register into `registry` directly. A
registry holds no personal data: only counts, ratios and durations."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


@dataclass(frozen=True)
class _Reading:
    name: str
    help: str
    read: Callable[[], float]
    kind: str  # "gauge" | "counter"


class _Readings(Collector):
    def __init__(self) -> None:
        self._readings: dict[str, _Reading] = {}
        self._lock = threading.Lock()

    def add(self, reading: _Reading) -> None:
        with self._lock:
            self._readings[reading.name] = reading

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            readings = sorted(self._readings.values(), key=lambda r: r.name)
        for r in readings:
            if r.kind == "counter":  # exposed as <name>_total, whether or not the name says so
                yield CounterMetricFamily(r.name, r.help, value=float(r.read()))
            else:
                yield GaugeMetricFamily(r.name, r.help, value=float(r.read()))


class MetricsRegistry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._readings = _Readings()
        self.registry.register(self._readings)

    def register(self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge") -> None:
        if kind not in ("gauge", "counter"):
            raise ValueError(f"unknown metric kind {kind!r}")
        self._readings.add(_Reading(name, help_text, read, kind))

    def exposition(self) -> str:
        return generate_latest(self.registry).decode()

    def serve(self, host: str, port: int) -> None:
        """Serve these metrics on http://host:port/metrics from a daemon thread, for as long as the process runs
        (a service run as a process of its own, whose metrics the hub's /metrics gathers)."""
        start_http_server(port, host, registry=self.registry)


def serve_metrics_of(register: Callable[[MetricsRegistry], None], port: int | None, host: str = "127.0.0.1") -> None:
    """A service's metrics (`register` adds them to a registry) served on host:port, unless `port` is None."""
    if port is None:
        return
    registry = MetricsRegistry()
    register(registry)
    registry.serve(host, port)
