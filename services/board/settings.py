"""The board's typed settings (environment prefix EAHUB_BOARD_), read only by the composition root."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class BoardSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_BOARD_", extra="ignore")

    database_url: str | None = Field(default=None, description="unset = SQLite file <data_dir>/board.db")
    keys_database_url: str | None = Field(default=None, description="unset = SQLite file <data_dir>/board-keys.db")
    sla_file: Path | None = Field(default=None, description="unset = the packaged sla.json")
    time_scale: float = Field(default=1.0, gt=0, description="divides every SLA duration (demo time compression)")
    base_url: str = "http://127.0.0.1:8090"
    retention_days: int = 6 * 365
    sweep_interval_seconds: float = 1.0
    relay_interval_seconds: float = 0.5
    mail_interval_seconds: float = 1.0
    batch_size: int = 500
    consumer_group: str = "eahub-board"


class SmtpSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_SMTP_", extra="ignore", populate_by_name=True)

    host: str | None = None
    port: int = 25
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    from_address: str = Field(default="early-action-board@localhost", validation_alias="EAHUB_SMTP_FROM")
    max_attempts: int = 8
