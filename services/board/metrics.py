"""The board's Prometheus metrics on a private CollectorRegistry (the web layer mounts `GET /metrics`):
open cases by agency, grade and state and overdue cases by agency (read from the database at scrape time),
time to acknowledge (histogram), breaches, escalations and cases stored (counters). Counts only."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import distinct, func, select

from eahub.board.model import OPEN_STATES
from eahub.board.service import Board
from eahub.board.tables import ACTIVE_TIMER_STATES, cases, timers

ACK_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 12 * 3600, 24 * 3600, 48 * 3600, 96 * 3600)


class BoardMetrics:
    """The observer the Board reports to, as Prometheus counters and a histogram."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.stored = Counter("eahub_board_cases_stored_total", "Routed cases stored on the boards",
                              registry=registry)
        self.breaches = Counter("eahub_board_breaches_total", "SLA timers that passed their due time",
                                ["agency"], registry=registry)
        self.escalations = Counter("eahub_board_escalations_total",
                                   "Escalations to team managers (first at breach, then each re-escalation)",
                                   ["agency"], registry=registry)
        self.time_to_ack = Histogram("eahub_board_time_to_acknowledge_seconds",
                                     "From report to acknowledgement on the board", ["agency"],
                                     buckets=ACK_BUCKETS, registry=registry)

    def case_stored(self, agency: str) -> None:
        self.stored.inc()

    def acknowledged(self, agency: str, seconds: float) -> None:
        self.time_to_ack.labels(agency=agency).observe(seconds)

    def breached(self, agency: str) -> None:
        self.breaches.labels(agency=agency).inc()

    def escalated(self, agency: str) -> None:
        self.escalations.labels(agency=agency).inc()


class _DatabaseGauges(Collector):
    def __init__(self, board: Board) -> None:
        self._board = board

    def collect(self) -> Iterator[GaugeMetricFamily]:
        open_cases = GaugeMetricFamily("eahub_board_open_cases", "Open cases on the boards",
                                       labels=["agency", "grade", "state"])
        overdue = GaugeMetricFamily("eahub_board_overdue_cases", "Open cases with a running timer past due",
                                    labels=["agency"])
        now_ms = int(self._board.clock().timestamp() * 1000)
        with self._board.engine.connect() as conn:
            for r in conn.execute(select(cases.c.agency, cases.c.grade, cases.c.state, func.count().label("n"))
                                  .where(cases.c.state.in_(list(OPEN_STATES)))
                                  .group_by(cases.c.agency, cases.c.grade, cases.c.state)):
                open_cases.add_metric([r.agency, r.grade, r.state], r.n)
            for r in conn.execute(select(timers.c.agency, func.count(distinct(timers.c.case_id)).label("n"))
                                  .where(timers.c.state.in_(ACTIVE_TIMER_STATES), timers.c.due_at_ms < now_ms)
                                  .group_by(timers.c.agency)):
                overdue.add_metric([r.agency], r.n)
        yield open_cases
        yield overdue

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())


def board_metrics(registry: CollectorRegistry, board: Board) -> BoardMetrics:
    """Register the board's metrics on `registry` and make the board report to them."""
    metrics = BoardMetrics(registry)
    registry.register(_DatabaseGauges(board))
    board.observer = metrics
    return metrics
