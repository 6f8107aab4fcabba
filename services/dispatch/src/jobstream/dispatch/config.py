"""Dispatch's settings (env prefix DISPATCH_), built by get_settings(), never at import."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobstream.dispatch.domain.plan import DriveHome


class DispatchSettings(BaseSettings):
    """How the scheduling engine travels, looks ahead and weighs."""

    model_config = SettingsConfigDict(env_prefix="DISPATCH_", extra="ignore")

    road_factor: float = Field(
        default=1.3, gt=0, description="Road distance ÷ great-circle distance."
    )
    speed_kmh: float = Field(default=40.0, gt=0, description="Average driving speed.")
    horizon_days: int = Field(
        default=14, ge=1, le=60, description="How far ahead the engine plans (days)."
    )
    urgent_priorities: tuple[str, ...] = Field(
        default=("P1",),
        description="Priorities that may displace lower-priority visits in the live plan.",
    )
    business_time_zone: str = Field(
        default="Europe/London", description="Time zone of the dispatch board's days."
    )
    optimiser_seconds: float = Field(
        default=10.0, gt=0, description="Time limit of one day-optimiser run (VROOM)."
    )
    at_risk_minutes: int = Field(
        default=30, ge=0, description="SLA slack under which the board flags a job at risk."
    )
    drive_home: DriveHome = Field(
        default=DriveHome.IN_OVERTIME,
        description="Whether the drive home must fit: in_overtime, in_shift or not_counted.",
    )
    hard_respond_by_priorities: tuple[str, ...] = Field(
        default=(),
        description="Priorities whose respond-by no plan may pass (others are weighed).",
    )


def get_settings() -> DispatchSettings:
    """Settings from the environment, read when called."""
    return DispatchSettings()
