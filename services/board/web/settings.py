"""The board web app's settings: the shell's, under the board's prefix (`EAHUB_BOARD_HTTP_PORT`,
`EAHUB_BOARD_BASE_URL`, `EAHUB_BOARD_SESSION_IDLE_MINUTES`, `EAHUB_BOARD_OIDC_ISSUER`, ...)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from eahub.core.web.settings import WebSettings


class BoardWebSettings(WebSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_BOARD_", extra="ignore")

    queue_refresh_seconds: int = 5
