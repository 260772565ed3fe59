"""The router's consume loop: decode, dispatch, publish, commit. It only moves messages; deciding is the
policy engine's job and building outputs is `outputs.py`'s.

Per batch: every inbound message becomes either a dead letter (permanent failure) or a decision and its
outputs; all outputs are published and acknowledged before the batch's offsets are committed. A
replay after a crash re-produces the same ids, which every store dedupes on."""

from __future__ import annotations

import threading
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from confluent_kafka import Consumer, Message

from eahub.core.consume import ConsumeLoop
from eahub.core.database import is_transient
from eahub.core.deadletter import dead_letter
from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher
from eahub.core.metrics import MetricsRegistry
from eahub.core.pseudonym import Pseudonymiser
from eahub.core.retry import StopRequested, retry
from eahub.policy.model import PolicyRequest, PolicyUnavailable
from eahub.router.event_digests import EventDigests, content_digest
from eahub.router.facts_window import RecentDecisions, decided_facts
from eahub.router.inbound import Rejected, read_inbound
from eahub.router.isolation import EVENT_ID_REUSED, check_event, failed, reuse_entry
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
    digests: EventDigests | None = None  # durable event id -> content memory (None: not checked, unit tests)

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
        # The registry outlives the router and is read on other threads: it holds the engines only weakly, so the
        # thread-bound embedded engine is never kept alive (and dropped) anywhere but on the router's thread.
        engine = self.engine
        if hasattr(engine, "hit_ratio"):
            cache = weakref.ref(engine)
            registry.register("eahub_policy_decision_cache_hit_ratio", "decision cache hits / lookups",
                              lambda: _read(cache, "hit_ratio"))
        inner = getattr(engine, "inner", None)
        if inner is not None and hasattr(inner, "reloads_refused"):
            reloading = weakref.ref(inner)
            registry.register("eahub_policy_reloads_total", "policy revisions loaded while running",
                              lambda: _read(reloading, "reloads"), kind="counter")
            registry.register("eahub_policy_reloads_refused_total",
                              "changed policies refused (failed to load or failed their tests)",
                              lambda: _read(reloading, "reloads_refused"), kind="counter")

    def run(self, stop: threading.Event) -> None:
        log.info("router started")
        try:
            self._loop().run(stop)
        finally:
            self.close()

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        """Decide and route one consumed batch, then commit it (see `ConsumeLoop`)."""
        self._loop().process_batch(msgs, stop)

    def _loop(self) -> ConsumeLoop:
        return ConsumeLoop(self.consumer, self.handle_batch, "router", self.batch_size)

    def handle_batch(self, msgs: list[Message], stop: threading.Event) -> None:
        """Every message becomes a dead letter or a decision and its outputs; returns once all are acknowledged.

        Anything that goes wrong deciding or building the outputs of ONE event is a permanent failure of that
        event (a dead letter naming the failure, then the offset moves on), never of the batch or the process:
        only an unreachable broker (DeliveryFailed, retried) or a stop leaves the batch uncommitted."""
        outputs: list[OutboundMessage] = []
        decided: list[tuple[dict[str, Any], str, Message]] = []
        now = self.clock()
        for msg in msgs:
            read = read_inbound(msg)
            if not isinstance(read, Rejected):
                read = check_event(read, now)
            if isinstance(read, Rejected):
                self._dead_letter(outputs, msg, read, now)
                continue
            try:
                decided.append((read, self.pseudonymiser.subject_ref(read), msg))
            except Exception as exc:  # one event's failure must not stop the router
                self._dead_letter(outputs, msg, failed("pseudonymising the subject", exc), now)
        decided = self._refuse_reused_ids(decided, outputs, now, stop)
        if decided:
            decisions = self._decide([e for e, _, _ in decided], now.date(), stop)
            for (event, subject_ref, msg), decision in zip(decided, decisions, strict=True):
                if isinstance(decision, Rejected):
                    self._dead_letter(outputs, msg, decision, now)
                    continue
                if decision is None:
                    outputs.append(dead_letter(msg, "POLICY_UNAVAILABLE", "policy-unavailable", "router"))
                    outputs.append(unavailable_entry(event, subject_ref, now, "policy engine unavailable"))
                    self.stats.parked_policy_unavailable += 1
                    continue
                origin = {"inbound_topic": msg.topic() or "", "inbound_partition": str(msg.partition()),
                          "inbound_offset": str(msg.offset())}
                try:
                    facts = decided_facts(event, now.date())
                    routed = outputs_for(event, decision, subject_ref, now, self.times, origin, facts=facts)
                except Exception as exc:  # one event's failure must not stop the router
                    self._dead_letter(outputs, msg, failed("building the outputs", exc), now)
                    continue
                if decision.policy_revision != self.revision_in_force:
                    impact = self.recent.impact_counts(self.engine) if self.revision_in_force else None
                    outputs.append(policy_change_entry(self.revision_in_force, decision.policy_revision,
                                                       event["event_id"], now, impact=impact))
                    self.revision_in_force = decision.policy_revision
                outputs.extend(routed)
                self.recent.record(facts, decision)
                self.stats.events += 1
                self.stats.shares += len(decision.shares)
                self.stats.refusals += len(decision.refusals)
                if self.on_decision:
                    self.on_decision(event, decision)
        self._publish(outputs, stop)
        self.stats.batches += 1

    def _refuse_reused_ids(self, decided: list[tuple[dict[str, Any], str, Message]], outputs: list[OutboundMessage],
                           now: datetime, stop: threading.Event) -> list[tuple[dict[str, Any], str, Message]]:
        """Drop (dead letter + audit entry) every event whose id was first seen with other content. The memory
        is written before any output is published: a replay of the same message finds its own digest."""
        if self.digests is None or not decided:
            return decided
        digests = [content_digest(event) for event, _, _ in decided]
        wanted: dict[str, str] = {}
        for (event, _, _), digest in zip(decided, digests, strict=True):
            wanted.setdefault(event["event_id"], digest)
        store = self.digests

        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            log.error("database unavailable; the event id memory cannot be read, waiting",
                      error_type=type(exc).__name__, attempt=attempt, retry_in_s=round(delay, 3))

        first = retry(lambda: store.first_seen(wanted), transient=is_transient, stop=stop,
                      first_delay_s=self.retry.first_delay_s, max_delay_s=self.retry.max_delay_s, on_retry=on_retry)
        kept = []
        for (event, subject_ref, msg), digest in zip(decided, digests, strict=True):
            if first.get(event["event_id"], digest) == digest:
                kept.append((event, subject_ref, msg))
                continue
            self._dead_letter(outputs, msg, EVENT_ID_REUSED, now, audited=False)  # reuse_entry says more
            outputs.append(reuse_entry(event, digest, subject_ref, now))
        return kept

    def _dead_letter(self, outputs: list[OutboundMessage], msg: Message, why: Rejected, now: datetime,
                     audited: bool = True) -> None:
        """Park the message on the dead-letter topic, with an audit entry saying what was refused and why."""
        outputs.append(dead_letter(msg, why.kind, why.error, "router"))
        if audited:
            outputs.append(refused_inbound_entry(msg, why, now))
        self.stats.dead_letters += 1
        log.warning("inbound message dead-lettered", kind=why.kind, error=why.error, topic=msg.topic(),
                    partition=msg.partition(), offset=msg.offset())

    def _decide(self, events: list[dict[str, Any]], today: date, stop: threading.Event) -> list[Any]:
        """Fail closed: while the engine cannot answer nothing is shared; retry, then park (None per event).
        Any other error of the engine on the batch is narrowed down to the events that cause it: each is
        decided alone, and an event the engine fails on is a Rejected (a dead letter), the others decided."""
        try:
            return self._decide_all(events, today, stop)
        except (PolicyUnavailable, StopRequested):
            raise
        except Exception as exc:  # narrowed down below, per event
            traceback.clear_frames(exc.__traceback__)  # its frames hold the thread-bound engine: drop them here
            log.error("policy engine failed on a batch; deciding its events one by one",
                      error_type=type(exc).__name__, events=len(events))
        out: list[Any] = []
        for event in events:
            try:
                out.extend(self._decide_all([event], today, stop))
            except (PolicyUnavailable, StopRequested):
                raise
            except Exception as exc:  # one event's failure must not stop the router
                traceback.clear_frames(exc.__traceback__)
                out.append(failed("deciding the event", exc))
        return out

    def _decide_all(self, events: list[dict[str, Any]], today: date, stop: threading.Event) -> list[Any]:
        requests = [PolicyRequest(event=e, today=today) for e in events]

        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            log.error("policy engine unavailable; nothing shared", error=str(exc), attempt=attempt,
                      retry_in_s=round(delay, 3), events=len(events))

        try:
            return list(retry(lambda: self.engine.decide(requests), stop=stop,
                              transient=lambda exc: isinstance(exc, PolicyUnavailable), attempts=self.retry.attempts,
                              first_delay_s=self.retry.first_delay_s, max_delay_s=self.retry.max_delay_s,
                              on_retry=on_retry))
        except PolicyUnavailable as exc:
            log.error("policy engine still unavailable; parking the events", error=str(exc), events=len(events))
            return [None] * len(events)

    def _publish(self, outputs: list[OutboundMessage], stop: threading.Event) -> None:
        """Transient: nothing is committed until this returns, so a retry re-sends the same outputs (same ids)."""

        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            log.error("outputs not acknowledged; retrying the batch", error=str(exc), retry_in_s=round(delay, 3))
            self.stats.redeliveries += 1

        retry(lambda: publish_records_first(self.publisher, outputs), stop=stop,
              transient=lambda exc: isinstance(exc, DeliveryFailed), first_delay_s=self.retry.first_delay_s,
              max_delay_s=self.retry.max_delay_s, on_retry=on_retry)

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            self.publisher.close()
            # The embedded Rego engine is bound to this thread: release it here, not in a later GC pass.
            self.engine = _ClosedEngine(self.engine.revision)


def _read(ref: weakref.ref[Any], attribute: str) -> float:
    target = ref()
    return float(getattr(target, attribute)) if target is not None else 0.0


@dataclass(frozen=True)
class _ClosedEngine:
    revision: str

    def decide(self, requests: list[PolicyRequest]) -> list[Any]:
        raise PolicyUnavailable("the router is closed")

