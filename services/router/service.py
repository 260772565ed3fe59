"""The router's consume loop: decode, dispatch, publish, commit. It only moves messages; deciding is the
policy engine's job and building outputs is `outputs.py`'s.

Per batch: every inbound message becomes either a dead letter (permanent failure) or a decision and its
outputs; all outputs are published and acknowledged before the batch's offsets are committed. A
replay after a crash re-produces the same ids, which every store dedupes on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Message

from eahub.core import topics
from eahub.core.deadletter import dead_letter
from eahub.core.kafka import commit_after, usable
from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher
from eahub.core.metrics import MetricsRegistry
from eahub.core.pseudonym import Pseudonymiser
from eahub.policy.model import PolicyRequest, PolicyUnavailable
from eahub.router.facts_window import RecentDecisions
from eahub.router.inbound import Rejected, read_inbound
from eahub.router.outputs import (
    ResponseTimes,
    outputs_for,
    policy_change_entry,
    publish_records_first,
    unavailable_entry,
)
from eahub.router.refusal_audit import refused_inbound_entry

if TYPE_CHECKING:
    from eahub.policy.engine import PolicyEngine

log = get_logger("eahub.router")


class StopRequested(Exception):
    """A stop arrived while a batch was waiting on a retry: abandon it uncommitted, never park it."""


@dataclass
class RouterStats:
    events: int = 0
    shares: int = 0
    refusals: int = 0
    dead_letters: int = 0
    parked_policy_unavailable: int = 0
    batches: int = 0
    redeliveries: int = 0


@dataclass
class RetryPolicy:
    """Fail closed: while the engine cannot answer nothing is shared; retry with backoff, then park."""

    attempts: int = 5
    first_delay_s: float = 0.2
    max_delay_s: float = 5.0

    def delays(self) -> list[float]:
        return [min(self.first_delay_s * 2**i, self.max_delay_s) for i in range(self.attempts - 1)]


@dataclass
class Router:
    consumer: Consumer
    publisher: Publisher
    engine: PolicyEngine
    pseudonymiser: Pseudonymiser
    times: ResponseTimes = field(default_factory=ResponseTimes)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    batch_size: int = 500
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    on_decision: Callable[[dict[str, Any], Any], None] | None = None
    stats: RouterStats = field(default_factory=RouterStats)
    revision_in_force: str | None = None
    recent: RecentDecisions = field(default_factory=RecentDecisions)  # for the impact of a hot reload

    def register_metrics(self, registry: MetricsRegistry) -> None:
        s = self.stats
        for name, help_text, read in (
            ("eahub_router_events_total", "events decided", lambda: s.events),
            ("eahub_router_shares_total", "recipients shared with", lambda: s.shares),
            ("eahub_router_refusals_total", "recipients refused", lambda: s.refusals),
            ("eahub_router_dead_letters_total", "inbound messages dead-lettered", lambda: s.dead_letters),
            ("eahub_router_parked_policy_unavailable_total", "events parked because no policy decision could be had",
             lambda: s.parked_policy_unavailable),
            ("eahub_router_redeliveries_total", "batches re-published after an unacknowledged write",
             lambda: s.redeliveries),
        ):
            registry.register(name, help_text, read, kind="counter")
        engine = self.engine
        if hasattr(engine, "hit_ratio"):
            registry.register("eahub_policy_decision_cache_hit_ratio", "decision cache hits / lookups",
                              lambda: engine.hit_ratio)
        reloading = getattr(engine, "inner", None)
        if reloading is not None and hasattr(reloading, "reloads_refused"):
            registry.register("eahub_policy_reloads_total", "policy revisions loaded while running",
                              lambda: reloading.reloads, kind="counter")
            registry.register("eahub_policy_reloads_refused_total",
                              "changed policies refused (failed to load or failed their tests)",
                              lambda: reloading.reloads_refused, kind="counter")

    def run(self, stop: threading.Event) -> None:
        log.info("router started")
        try:
            while not stop.is_set():
                msgs = self.consumer.consume(num_messages=self.batch_size, timeout=0.5)
                if msgs:
                    self.process_batch(msgs, stop)
        except StopRequested:
            log.info("stopping mid-batch; its offsets stay uncommitted and the batch will be read again")
        finally:
            self.close()

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()  # retries wait on it, so that a stop cuts them short
        msgs = usable(msgs)
        if not msgs:
            return
        outputs: list[OutboundMessage] = []
        decided: list[tuple[dict[str, Any], str, Message]] = []
        for msg in msgs:
            read = read_inbound(msg)
            if isinstance(read, Rejected):
                outputs.append(dead_letter(msg, read.kind, read.error, "router"))
                refused = refused_inbound_entry(msg, read, self.clock())
                if refused is not None:
                    outputs.append(refused)
                self.stats.dead_letters += 1
                log.warning("inbound message dead-lettered", kind=read.kind, topic=msg.topic(),
                            partition=msg.partition(), offset=msg.offset())
            else:
                decided.append((read, self.pseudonymiser.subject_ref(read), msg))
        now = self.clock()
        if decided:
            decisions = self._decide([e for e, _, _ in decided], now.date(), stop)
            for (event, subject_ref, msg), decision in zip(decided, decisions, strict=True):
                if decision is not None and decision.policy_revision != self.revision_in_force:
                    impact = self.recent.impact_counts(self.engine) if self.revision_in_force else None
                    outputs.append(policy_change_entry(self.revision_in_force, decision.policy_revision,
                                                       event["event_id"], now, impact=impact))
                    self.revision_in_force = decision.policy_revision
                if decision is None:
                    outputs.append(dead_letter(msg, "POLICY_UNAVAILABLE", "policy-unavailable", "router"))
                    outputs.append(unavailable_entry(event, subject_ref, now, "policy engine unavailable"))
                    self.stats.parked_policy_unavailable += 1
                    continue
                origin = {"inbound_topic": msg.topic(), "inbound_partition": str(msg.partition()),
                          "inbound_offset": str(msg.offset())}
                outputs.extend(outputs_for(event, decision, subject_ref, now, self.times, origin))
                self.recent.record(event, now.date(), decision)
                self.stats.events += 1
                self.stats.shares += len(decision.shares)
                self.stats.refusals += len(decision.refusals)
                if self.on_decision:
                    self.on_decision(event, decision)
        self._publish_then_commit(outputs, msgs, stop)
        self.stats.batches += 1

    def _decide(self, events: list[dict[str, Any]], today: date, stop: threading.Event) -> list[Any]:
        requests = [PolicyRequest(event=e, today=today) for e in events]
        for delay in [*self.retry.delays(), None]:
            try:
                return list(self.engine.decide(requests))
            except PolicyUnavailable as exc:
                log.error("policy engine unavailable; nothing shared", error=str(exc), retry_in_s=delay,
                          events=len(events))
                if delay is None:
                    break
                if stop.wait(delay):
                    raise StopRequested from None  # not an exhausted bound: leave the batch for later
        return [None] * len(events)

    def _publish_then_commit(self, outputs: list[OutboundMessage], msgs: list[Message],
                             stop: threading.Event) -> None:
        delay = self.retry.first_delay_s
        while True:
            try:
                publish_records_first(self.publisher, outputs)
                break
            except DeliveryFailed as exc:
                # Transient: nothing is committed, so the same outputs (same ids) are produced again.
                log.error("outputs not acknowledged; retrying the batch", error=str(exc), retry_in_s=delay)
                self.stats.redeliveries += 1
                if stop.wait(delay):
                    raise StopRequested from None
                delay = min(delay * 2, self.retry.max_delay_s)
        commit_after(self.consumer, msgs)

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            self.publisher.close()
            # The embedded Rego engine is bound to this thread: release it here, not in a later GC pass.
            self.engine = _ClosedEngine(self.engine.revision)


@dataclass(frozen=True)
class _ClosedEngine:
    revision: str

    def decide(self, requests: list[PolicyRequest]) -> list[Any]:
        raise PolicyUnavailable("the router is closed")


def subscribe_inbound(consumer: Consumer) -> None:
    consumer.subscribe([topics.INBOUND_PATTERN])
