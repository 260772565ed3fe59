"""Ingest's own settings (environment prefix EAHUB_INGEST_), beside the hub-wide HubSettings."""

from __future__ import annotations

from datetime import timedelta

from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_INGEST_", extra="ignore")

    max_body_bytes: int = 64 * 1024
    clock_skew_seconds: int = 300
    publish_timeout_seconds: float = 15.0
    linger_ms: int = 2  # librdkafka's linger.ms for the 202's publish (see kafka_publisher)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @property
    def idempotency_lease_ms(self) -> int:
        """A pending claim older than this is taken to be from a crashed request: longer than a live
        request can hold one (the publisher gives up publish_timeout + 5 s after its call)."""
        return int((self.publish_timeout_seconds + 10) * 1000)
