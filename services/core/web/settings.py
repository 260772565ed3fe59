"""Typed settings of a web app built on the shell. Each app subclasses `WebSettings` with its own env prefix
(the board: `EAHUB_BOARD_`), read only in that app's composition root."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_WEB_", extra="ignore")

    base_url: str | None = Field(default=None,
                                 description="public URL (https makes cookies Secure); unset = http://host:port")
    http_host: str = "127.0.0.1"
    http_port: int = 8081
    session_idle_minutes: float = 30.0
    session_absolute_hours: float = 12.0
    signin_max_attempts: int = Field(default=5, description="failed sign-ins per login and per address per window")
    signin_window_seconds: int = 300
    # OIDC (production sign-in); unset issuer = password sign-in only
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_agency_claim: str = "eahub_agency"
    oidc_role_claim: str = "eahub_role"
    oidc_scopes: str = "openid email profile"

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.http_host}:{self.http_port}").rstrip("/")

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)
