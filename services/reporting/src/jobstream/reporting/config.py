"""Reporting's settings (prefix ``REPORTING_``), built by get_settings(), never at import."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportingSettings(BaseSettings):
    """How reporting presents its figures."""

    model_config = SettingsConfigDict(env_prefix="REPORTING_", extra="ignore")

    time_zone: str = Field(
        default="Europe/London",
        description="The business's IANA time zone: dashboard weeks and days start in it.",
    )
    dashboard_weeks: int = Field(
        default=12, ge=1, le=104, description="Weeks of trend the dashboard shows."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)
        return value


def get_settings() -> ReportingSettings:
    """Settings from the environment, read when called."""
    return ReportingSettings()
