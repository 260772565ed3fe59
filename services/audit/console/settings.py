"""The IG console's settings (environment prefix EAHUB_CONSOLE_): the web shell's (port, base URL, sessions,
sign-in limits, OIDC) plus the review thresholds and the scheduled verification interval. Read only in the
console's composition root (`serve.py`)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eahub.core.web.settings import WebSettings


class ConsoleSettings(WebSettings):
    model_config = SettingsConfigDict(env_prefix="EAHUB_CONSOLE_", extra="ignore")

    http_port: int = 8082
    # unusual-access findings
    unallocated_views_threshold: int = Field(default=5, ge=1,
                                             description="views of cases not allocated to the viewer before flagged")
    working_hours_start: int = Field(default=8, ge=0, le=23, description="Europe/London hour the working day starts")
    working_hours_end: int = Field(default=18, ge=1, le=24, description="Europe/London hour the working day ends")
    working_days: str = Field(default="0,1,2,3,4", description="weekday numbers (Mon=0) that are working days")
    # integrity
    verify_interval_seconds: float = Field(default=3600.0, gt=0, description="scheduled full verification")
