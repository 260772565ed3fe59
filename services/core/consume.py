"""The one consume-and-commit loop of the hub's services (router, audit, board): consume a batch, keep the
messages that carry data, hand them to the service's handler, and commit each partition's offset only after the
handler returned — that is, after everything the batch produced is durable (acknowledged by the broker or
committed to a database). The handler raises `StopRequested` to abandon a batch: it stays uncommitted and is
read again by whoever owns the partitions next."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from confluent_kafka import Consumer, Message

from eahub.core.kafka import commit_after, usable
from eahub.core.logging import get_logger
from eahub.core.retry import StopRequested

log = get_logger("eahub.consume")

BatchHandler = Callable[[list[Message], threading.Event], None]


@dataclass
class ConsumeLoop:
    consumer: Consumer
    handle: BatchHandler
    name: str
    batch_size: int = 500
    poll_timeout_s: float = 0.5
    between_batches: Callable[[threading.Event], None] | None = None  # housekeeping, run after every poll

    def run(self, stop: threading.Event) -> None:
        log.info("consuming", service=self.name)
        try:
            while not stop.is_set():
                msgs = self.next_batch()
                if msgs:
                    self.process_batch(msgs, stop)
                if self.between_batches is not None:
                    self.between_batches(stop)
        except StopRequested:
            log.info("stopping mid-batch; its offsets stay uncommitted and the batch will be read again",
                     service=self.name)

    def next_batch(self) -> list[Message]:
        """Wait up to `poll_timeout_s` for the first message only, then take whatever else is already fetched,
        up to `batch_size`, without waiting: a lone message is handled as soon as it arrives (not when the
        timeout ends, as `consume(n, timeout)` would), an idle loop sleeps in librdkafka, and under load the
        batches grow by themselves with what arrived while the previous one was handled."""
        first = self.consumer.poll(self.poll_timeout_s)
        if first is None:
            return []
        if self.batch_size <= 1:
            return [first]
        return [first, *self.consumer.consume(num_messages=self.batch_size - 1, timeout=0)]

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        """Handle one consumed batch, then commit it."""
        stop = stop or threading.Event()
        msgs = usable(msgs)
        if not msgs:
            return
        self.handle(msgs, stop)
        commit_after(self.consumer, msgs)
