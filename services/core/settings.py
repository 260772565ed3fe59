"""Typed settings, read from the environment (prefix EAHUB_) by each service's composition root,
never at import time. Secrets are SecretStr so they never reach a log line."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from eahub.core.paths import POLICIES_DIR

# librdkafka properties passed through from EAHUB_KAFKA_<PROPERTY> (dots as underscores), e.g.
# EAHUB_KAFKA_SECURITY_PROTOCOL=SASL_SSL, EAHUB_KAFKA_SASL_MECHANISM=SCRAM-SHA-512,
# EAHUB_KAFKA_SASL_USERNAME, EAHUB_KAFKA_SASL_PASSWORD, EAHUB_KAFKA_SSL_CA_LOCATION.
KAFKA_PASSTHROUGH_PREFIXES = ("security_", "sasl_", "ssl_", "client_id")
_SECRET_WORDS = ("password", "secret", "key")


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_", extra="ignore")

    data_dir: Path = Path(".eahub")
    kafka_bootstrap: str | None = Field(default=None, description="external Kafka; unset = embedded broker")
    broker_port: int = 9092
    http_port: int = 8080
    http_host: str = "127.0.0.1"
    metrics_port: int = Field(default=8083, description="the hub's /metrics when ingest runs in a process of its own")
    database_url: str | None = Field(default=None, description="unset = SQLite file in data_dir")
    opa_url: str | None = Field(default=None, description="unset = embedded regorus engine")
    opa_timeout_seconds: float = 2.0
    policy_engine: Literal["regorus", "opa-embedded"] = Field(
        default="regorus", description="embedded evaluator when EAHUB_OPA_URL is unset"
    )
    policy_reload_seconds: float = Field(default=5.0, description="how often a changed policy folder is noticed")
    policies_dir: Path = POLICIES_DIR
    inbound_partitions: int = 4
    board_partitions: int = 4
    audit_partitions: int = 1
    replication_factor: int = 1
    grade2_response_minutes: int = 60
    grade3_response_minutes: int = 48 * 60
    log_format: str = "console"
    log_level: str = "info"

    @property
    def bootstrap_servers(self) -> str:
        return self.kafka_bootstrap or f"127.0.0.1:{self.broker_port}"

    @property
    def embedded_broker(self) -> bool:
        return self.kafka_bootstrap is None

    @property
    def ledger_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'ledger.db').resolve()}"

    def as_environment(self) -> dict[str, str]:
        """These settings as EAHUB_* variables, for a child process that must run with exactly them."""
        env = {}
        for name, value in self.model_dump().items():
            if value is not None:
                env[f"EAHUB_{name.upper()}"] = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        return env

    def kafka_config(self) -> dict[str, str]:
        """librdkafka base config: bootstrap plus security settings passed through from the environment."""
        # librdkafka logs at warning and above; connection closes by idle brokers are not news.
        config = {"bootstrap.servers": self.bootstrap_servers, "log_level": "4", "log.connection.close": "false"}
        for name, value in os.environ.items():
            if not name.startswith("EAHUB_KAFKA_") or name == "EAHUB_KAFKA_BOOTSTRAP":
                continue
            prop = name.removeprefix("EAHUB_KAFKA_").lower()
            if prop.startswith(KAFKA_PASSTHROUGH_PREFIXES):
                config[prop.replace("_", ".")] = value
        return config


def redacted(config: dict[str, str]) -> dict[str, str]:
    """A copy safe to log: values of secret-looking properties replaced."""
    return {k: ("***" if any(w in k for w in _SECRET_WORDS) else v) for k, v in config.items()}


def secret(value: str) -> SecretStr:
    return SecretStr(value)
