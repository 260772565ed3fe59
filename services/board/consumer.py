"""The board's consume loop: routed cases from every `eahub.board.<agency>` topic into the board database,
and erasure requests from `eahub.erasure`. It only decodes, dispatches and commits.

Per batch: each case is stored (deduplicated on case_id); a message that cannot be decoded, or whose
recipient is not its topic's agency, goes to the dead-letter topic with its original bytes; only when all of
that is durable are the batch's offsets committed. Database errors that may pass are retried with a backoff
that the stop event interrupts; the board never reads inbound topics, the vault or the ledger."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from confluent_kafka import Consumer, Message
from sqlalchemy.exc import DBAPIError, OperationalError

from eahub.board.service import Board
from eahub.core import avro_codec, schemas, topics
from eahub.core.deadletter import dead_letter
from eahub.core.kafka import commit_after, usable
from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher

log = get_logger("eahub.board.consumer")
BOARD_PATTERN = r"^eahub\.board\..+"
SUBSCRIPTION = [BOARD_PATTERN, topics.ERASURE]
COMPONENT = "board"
T = TypeVar("T")


class Stopped(RuntimeError):
    """The stop event was set while waiting to retry."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) or (isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def retry_transient(action: Callable[[], T], stop: threading.Event | None, first_delay_s: float = 0.2,
                    max_delay_s: float = 10.0, on_retry: Callable[[BaseException], None] | None = None) -> T:
    """Run `action` until it succeeds; transient database errors are retried with a doubling backoff that the
    stop event interrupts (then Stopped is raised); any other error is raised at once."""
    delay = first_delay_s
    while True:
        try:
            return action()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if on_retry is not None:
                on_retry(exc)
            log.warning("board database error; retrying", error=type(exc).__name__, retry_in_s=delay)
            if stop is not None:
                if stop.wait(delay):
                    raise Stopped("stopped while the database was unavailable") from exc
            else:
                time.sleep(delay)
            delay = min(delay * 2, max_delay_s)


@dataclass
class ConsumerStats:
    stored: int = 0
    duplicates: int = 0
    erasures: int = 0
    dead_letters: int = 0
    batches: int = 0
    db_retries: int = 0


@dataclass
class BoardConsumer:
    consumer: Consumer
    publisher: Publisher  # dead letters
    board: Board
    batch_size: int = 500
    stats: ConsumerStats = field(default_factory=ConsumerStats)

    def run(self, stop: threading.Event) -> None:
        log.info("board consumer started")
        try:
            while not stop.is_set():
                msgs = self.consumer.consume(num_messages=self.batch_size, timeout=0.5)
                if msgs:
                    try:
                        self.process_batch(msgs, stop)
                    except Stopped:
                        break
        finally:
            self.close()

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        msgs = usable(msgs)
        if not msgs:
            return
        dead: list[OutboundMessage] = []
        work: list[tuple[Message, str, dict[str, Any]]] = []
        for msg in msgs:
            topic = msg.topic() or ""
            try:
                if topic == topics.ERASURE:
                    work.append((msg, "erase", avro_codec.decode(msg.value(), expected=schemas.ERASURE_REQUEST)[1]))
                    continue
                case = avro_codec.decode(msg.value(), expected=schemas.ROUTED_CASE)[1]
            except avro_codec.UndecodableMessage as exc:
                dead.append(dead_letter(msg, "UNDECODABLE", str(exc), COMPONENT))
                continue
            if case["recipient"] != topic.removeprefix(topics.BOARD_PREFIX):
                dead.append(dead_letter(msg, "SOURCE_MISMATCH", "recipient is not the agency of the board topic",
                                        COMPONENT))
                continue
            work.append((msg, "store", case))
        for msg, kind, record in work:
            try:
                if kind == "store":
                    stored = retry_transient(partial(self.board.store_case, record), stop, on_retry=self._count_retry)
                    if stored:
                        self.stats.stored += 1
                    else:
                        self.stats.duplicates += 1
                else:
                    retry_transient(partial(self.board.erase_subject, record["subject_ref"], record["request_id"],
                                            record["requested_by"]), stop, on_retry=self._count_retry)
                    self.stats.erasures += 1
            except Stopped:
                raise
            except Exception as exc:  # no input may stop the board: park it with the reason
                log.error("message could not be stored", error=type(exc).__name__, topic=msg.topic(),
                          offset=msg.offset())
                dead.append(dead_letter(msg, "SCHEMA_INVALID", f"the board could not store it ({type(exc).__name__})",
                                        COMPONENT))
        if dead:
            self._publish(dead, stop)
            self.stats.dead_letters += len(dead)
            for d in dead:
                headers = dict(d.headers)
                log.warning("message dead-lettered", kind=headers.get("eahub_error_kind", b"").decode(),
                            topic=headers.get("eahub_original_topic", b"").decode(),
                            offset=headers.get("eahub_original_offset", b"").decode())
        commit_after(self.consumer, msgs)
        self.stats.batches += 1

    def _count_retry(self, _exc: BaseException) -> None:
        self.stats.db_retries += 1

    def _publish(self, messages: list[OutboundMessage], stop: threading.Event | None) -> None:
        delay = 0.2
        while True:
            try:
                self.publisher.publish(messages)
                return
            except DeliveryFailed as exc:
                log.error("dead letters not acknowledged; retrying", error=str(exc), retry_in_s=delay)
                if stop is not None and stop.wait(delay):
                    raise Stopped("stopped while dead letters were unacknowledged") from exc
                if stop is None:
                    time.sleep(delay)
                delay = min(delay * 2, 5.0)

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            self.publisher.close()
