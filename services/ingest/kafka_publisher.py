"""The Kafka publisher as ingest configures it. An HTTP request publishes one event and waits for its
ack, so lingering only adds latency (5 ms a request): linger.ms=0 there. The producer client sends
batches, which lingering packs into fewer broker requests: it keeps the core default, 5 ms."""

from __future__ import annotations

from eahub.core.kafka import KafkaPublisher, producer_config
from eahub.core.settings import HubSettings


def ingest_publisher(settings: HubSettings, publish_timeout_s: float = 15.0,
                     linger_ms: int = 0) -> KafkaPublisher:
    timeout_ms = int(publish_timeout_s * 1000)
    config = producer_config(settings, **{"linger.ms": linger_ms, "message.timeout.ms": timeout_ms})
    return KafkaPublisher(config, timeout_s=publish_timeout_s + 5)
