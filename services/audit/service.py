"""The audit service's consume loop: decode, append, checkpoint, commit. It only moves messages.

Per batch: AuditEntry records from `eahub.audit` (one per message, or several in an AuditEntries message:
all of a message's entries or, one being bad, none) are appended to the ledger (deduplicated on entry_id),
RoutedCase records from `eahub.board.*` are sealed into the vault (deduplicated on case_id); an
undecodable message goes to the dead-letter topic with its original bytes; only when all of that is
durable are the batch's offsets committed. Database errors that may pass are retried with backoff;
anything else (and a ledger found altered) stops the service loudly."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

from confluent_kafka import Consumer, Message

from eahub.audit import entry_format
from eahub.audit.board_activity import to_ledger_entry
from eahub.audit.checkpoints import Checkpointer
from eahub.audit.settings import AuditSettings
from eahub.audit.signing import TreeHead
from eahub.audit.store import LedgerStore
from eahub.audit.vault import Vault
from eahub.core import avro_codec, schemas, topics
from eahub.core.audit_entries import entries_of
from eahub.core.consume import ConsumeLoop
from eahub.core.database import with_database_retry
from eahub.core.deadletter import dead_letter
from eahub.core.logging import get_logger
from eahub.core.messages import DeliveryFailed, OutboundMessage, Publisher
from eahub.core.metrics import MetricsRegistry
from eahub.core.retry import retry

log = get_logger("eahub.audit")

BOARD_PATTERN = r"^eahub\.board\..+"
SUBSCRIPTION = [topics.AUDIT, BOARD_PATTERN, topics.BOARD_ACTIVITY]
COMPONENT = "audit"


@dataclass
class AuditStats:
    appended: int = 0
    duplicates: int = 0
    payloads: int = 0
    dead_letters: int = 0
    checkpoints: int = 0
    batches: int = 0
    db_retries: int = 0


@dataclass
class AuditService:
    consumer: Consumer
    publisher: Publisher
    store: LedgerStore
    vault: Vault
    checkpointer: Checkpointer
    settings: AuditSettings = field(default_factory=AuditSettings)
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    stats: AuditStats = field(default_factory=AuditStats)
    _since_checkpoint: int = 0
    _last_checkpoint: float = field(default_factory=time.monotonic)
    _last_expiry: float = 0.0
    _unpublished: list[TreeHead] = field(default_factory=list)
    _closed: bool = False

    def register_metrics(self, registry: MetricsRegistry) -> None:
        s = self.stats
        for name, help_text, read in (
            ("eahub_audit_entries_appended_total", "ledger entries appended", lambda: s.appended),
            ("eahub_audit_duplicates_total", "ledger entries received again and not appended", lambda: s.duplicates),
            ("eahub_audit_cases_sealed_total", "routed cases sealed in the vault", lambda: s.payloads),
            ("eahub_audit_dead_letters_total", "messages dead-lettered", lambda: s.dead_letters),
            ("eahub_audit_checkpoints_total", "signed tree heads", lambda: s.checkpoints),
            ("eahub_audit_batches_total", "consumed batches committed", lambda: s.batches),
            ("eahub_audit_db_retries_total", "database writes retried", lambda: s.db_retries),
        ):
            registry.register(name, help_text, read, kind="counter")

    def run(self, stop: threading.Event) -> None:
        log.info("audit service started", ledger_size=self.checkpointer.sync())
        try:
            self._loop().run(stop)
            self._checkpoint(threading.Event())  # a last head over what this run appended
        finally:
            self.close()

    def process_batch(self, msgs: list[Message], stop: threading.Event | None = None) -> None:
        """Append one consumed batch, then commit it (see `ConsumeLoop`)."""
        self._loop().process_batch(msgs, stop)

    def _loop(self) -> ConsumeLoop:
        return ConsumeLoop(self.consumer, self.handle_batch, COMPONENT, self.settings.batch_size,
                           between_batches=self._housekeeping)

    def handle_batch(self, msgs: list[Message], stop: threading.Event) -> None:
        entries: list[dict[str, Any]] = []
        cases: list[dict[str, Any]] = []
        sealed: list[bytes] = []  # each case as received: what the vault seals
        dead: list[OutboundMessage] = []
        now = self.clock()
        for msg in msgs:
            try:
                if msg.topic() == topics.AUDIT:  # one entry or several: all of them appended, or none
                    batch = entries_of(msg.value())
                    for entry in batch:
                        entry_format.check(entry)  # rejects what the ledger cannot hold
                    entries.extend(batch)
                elif msg.topic() == topics.BOARD_ACTIVITY:
                    entry = to_ledger_entry(avro_codec.decode(msg.value(), expected=schemas.BOARD_ACTIVITY)[1])
                    entry_format.check(entry)  # rejects what the ledger cannot hold
                    entries.append(entry)
                else:
                    value = msg.value()
                    cases.append(avro_codec.decode(value, expected=schemas.ROUTED_CASE)[1])
                    sealed.append(cast(bytes, value))  # decoded, so bytes
            except avro_codec.UndecodableMessage as exc:
                dead.append(dead_letter(msg, "UNDECODABLE", str(exc), COMPONENT))
            except ValueError as exc:
                dead.append(dead_letter(msg, "SCHEMA_INVALID", str(exc), COMPONENT))
        appended = self._with_db_retry(lambda: self.store.append(entries, now), stop) if entries else []
        # One transaction for the batch's cases, sealed as they were received.
        stored = self._with_db_retry(lambda: self.vault.store_many(cases, encoded=sealed), stop) if cases else 0
        if dead:
            self._publish(dead, stop)
            for d in dead:
                log.warning(
                    "message dead-lettered",
                    topic=dict(d.headers).get("eahub_original_topic", b"").decode(),
                    offset=dict(d.headers).get("eahub_original_offset", b"").decode(),
                )
        self.stats.appended += len(appended)
        self.stats.duplicates += len(entries) - len(appended)
        self.stats.payloads += stored
        self.stats.dead_letters += len(dead)
        self.stats.batches += 1
        self._since_checkpoint += len(appended)
        if self._since_checkpoint >= self.settings.checkpoint_every_entries:
            self._checkpoint(stop)

    def _housekeeping(self, stop: threading.Event) -> None:
        if time.monotonic() - self._last_checkpoint >= self.settings.checkpoint_every_seconds:
            self._checkpoint(stop)
        if time.monotonic() - self._last_expiry >= self.settings.expiry_interval_seconds:
            removed = self._with_db_retry(self.vault.expire, stop)
            self._last_expiry = time.monotonic()
            if removed:
                log.info("vault retention applied", removed=removed)

    def _checkpoint(self, stop: threading.Event) -> None:
        head = self._with_db_retry(self.checkpointer.checkpoint, stop)
        self._since_checkpoint = 0
        self._last_checkpoint = time.monotonic()
        if head is not None:
            self.stats.checkpoints += 1
            self._unpublished.append(head)
            log.info("tree head signed", tree_size=head.tree_size, root_hash=head.root_hash.hex())
        if self._unpublished:
            msgs = [
                OutboundMessage(
                    topics.AUDIT_CHECKPOINTS,
                    b"tree-head",
                    avro_codec.encode(schemas.SIGNED_TREE_HEAD, h.to_record()),
                )
                for h in self._unpublished
            ]
            try:
                self.publisher.publish(msgs)
                self._unpublished.clear()
            except DeliveryFailed as exc:  # stored in the ledger already; published on the next checkpoint
                log.error("tree head not acknowledged by the broker; will retry", error=str(exc))

    def _with_db_retry(self, action: Callable[[], Any], stop: threading.Event) -> Any:
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            self.stats.db_retries += 1
            log.warning("database error; retrying", error=type(exc).__name__, attempt=attempt,
                        retry_in_s=round(delay, 3))

        return with_database_retry(action, stop=stop, attempts=self.settings.db_retry_attempts, on_retry=on_retry)

    def _publish(self, messages: list[OutboundMessage], stop: threading.Event) -> None:
        def on_retry(attempt: int, exc: BaseException, delay: float) -> None:
            log.error("dead letters not acknowledged; retrying", error=str(exc), retry_in_s=round(delay, 3))

        retry(lambda: self.publisher.publish(messages), transient=lambda exc: isinstance(exc, DeliveryFailed),
              stop=stop, on_retry=on_retry)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.consumer.close()
        finally:
            self.publisher.close()
