"""Keeps the hub's topics in place. The embedded broker stores everything in memory: after it restarts every
topic, offset and producer id is gone. Left alone, clients would auto-create topics with the broker's default
partition count (the audit topic came back with 4 partitions instead of 1) and never recreate the ones no one
writes to. So every service runs a guard: every few seconds it lists the broker's topics and, when a hub topic
is missing, logs loudly that broker data was lost and creates the missing ones with their configured
partitions (clients never auto-create: `allow.auto.create.topics=false`). Several guards racing is harmless:
creating an existing topic is a no-op."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient

from eahub.core import topics
from eahub.core.logging import get_logger, kafka_logger
from eahub.core.registry import agency_ids
from eahub.core.settings import HubSettings

log = get_logger("eahub.topics")


@dataclass
class TopicGuard:
    settings: HubSettings
    interval_s: float = 3.0
    recreated: int = 0
    _admin: AdminClient | None = field(default=None, repr=False)

    def missing(self, timeout_s: float = 3.0) -> list[str]:
        """Hub topics the broker does not have. Raises KafkaException when the broker cannot be asked."""
        if self._admin is None:
            self._admin = AdminClient({**self.settings.kafka_config(), **kafka_logger()})
        existing = set(self._admin.list_topics(timeout=timeout_s).topics)
        expected = [s.name for s in topics.all_topics(self.settings, agency_ids(self.settings.policies_dir))]
        return [name for name in expected if name not in existing]

    def check(self) -> list[str]:
        """Recreate any missing hub topic; return the names that were missing."""
        missing = self.missing()
        if missing:
            log.error("BROKER DATA LOST: hub topics are missing (the broker restarted without its data?); "
                      "recreating them with their configured partitions", missing=len(missing),
                      topics=",".join(missing[:10]))
            topics.create_topics(self.settings, agency_ids(self.settings.policies_dir))
            self.recreated += len(missing)
        return missing

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.interval_s):
            try:
                self.check()
            except KafkaException as exc:
                log.warning("topic check failed; the broker is unreachable", error=exc.args[0].str())


def guarded(settings: HubSettings, target: Callable[[threading.Event], None]) -> Callable[[threading.Event], None]:
    """`target` with a topic guard running beside it in a daemon thread, until the same stop event."""

    def run(stop: threading.Event) -> None:
        threading.Thread(target=TopicGuard(settings).run, args=(stop,), name="topic-guard", daemon=True).start()
        target(stop)

    return run
