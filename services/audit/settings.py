"""Typed settings of the audit service (environment prefix EAHUB_AUDIT_), read in its composition root."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DAY_MS = 24 * 60 * 60 * 1000


class AuditSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_AUDIT_", extra="ignore")

    checkpoint_every_entries: int = Field(default=1000, ge=1, description="sign a tree head every N new entries")
    checkpoint_every_seconds: float = Field(default=30.0, gt=0, description="... or every T seconds")
    batch_size: int = Field(default=500, ge=1)
    db_retry_attempts: int = Field(default=8, ge=1)
    expiry_interval_seconds: float = Field(default=3600.0, gt=0)
    # Retention of vault payloads per entry kind (days). Expiry removes payloads, never chain hashes.
    retention_days_disclosure: int = Field(default=6 * 365, ge=0)
    retention_days_override: int = Field(default=7 * 365, ge=0)

    def retention_ms(self, kind: str) -> int:
        days = {"DISCLOSURE": self.retention_days_disclosure, "OVERRIDE": self.retention_days_override}[kind]
        return days * DAY_MS
