"""The board's consume loop: routed cases from every `eahub.board.<agency>` topic into the board database,
and erasure requests from `eahub.erasure`. It only decodes, dispatches and commits.

Per batch: each case is stored (deduplicated on case_id); a message that cannot be decoded, or whose
recipient is not its topic's agency, goes to the dead-letter topic with its original bytes; only when all of
that is durable are the batch's offsets committed. Database errors that may pass are retried with a backoff
that the stop event interrupts; the board never reads inbound topics, the vault or the ledger."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from confluent_kafka import Consumer, Message

from eahub.board.service import Board
from eahub.core import avro_codec, schemas, topics
from eahub.core.consume import ConsumeLoop
from eahub.core.database import is_transient
from eahub.core.deadletter import dead_letter
from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher
from eahub.core.retry import retry

log = get_logger("eahub.board.consumer")
BOARD_PATTERN = r"^eahub\.board\..+"
SUBSCRIPTION = [BOARD_PATTERN, topics.ERASURE]
COMPONENT = "board"


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
            self._loop().run(stop)
        finally:
            self.close()

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        """Store one consumed batch, then commit it (see `ConsumeLoop`)."""
        self._loop().process_batch(msgs, stop)

    def _loop(self) -> ConsumeLoop:
        return ConsumeLoop(self.consumer, self.handle_batch, COMPONENT, self.batch_size)

    def handle_batch(self, msgs: list[Message], stop: threading.Event) -> None:
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
                    stored = self._with_db_retry(partial(self.board.store_case, record), stop)
                    if stored:
                        self.stats.stored += 1
                    else:
                        self.stats.duplicates += 1
                else:
                    self._with_db_retry(partial(self.board.erase_subject, record["subject_ref"], record["request_id"],
                                                record["requested_by"]), stop)
                    self.stats.erasures += 1
            except Exception as exc:  # no input may stop the board: park it with the reason (a stop propagates)
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
        self.stats.batches += 1

    def _with_db_retry(self, action: Any, stop: threading.Event) -> Any:
        """Transient database errors are retried until they pass (or a stop arrives: StopRequested)."""
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            self.stats.db_retries += 1
            log.warning("board database error; retrying", error=type(exc).__name__, retry_in_s=round(delay, 3))

        return retry(action, transient=is_transient, stop=stop, max_delay_s=10.0, on_retry=on_retry)

    def _publish(self, messages: list[OutboundMessage], stop: threading.Event) -> None:
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            log.error("dead letters not acknowledged; retrying", error=str(exc), retry_in_s=round(delay, 3))

        retry(lambda: self.publisher.publish(messages), transient=lambda exc: isinstance(exc, DeliveryFailed),
              stop=stop, on_retry=on_retry)

    def close(self) -> None:
        try:
            self.consumer.close()
        finally:
            self.publisher.close()
