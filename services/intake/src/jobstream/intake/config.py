"""Intake's own settings (``INTAKE_*``), built by get_settings() at start-up, never at import."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from jobstream.contracts.common import Priority
from jobstream.intake.domain.work_order import APPROVAL_VALUE_LIMIT_MINOR


class IntakeSettings(BaseSettings):
    """Business rules an operator may tune."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    approval_value_limit_minor: int = Field(
        default=APPROVAL_VALUE_LIMIT_MINOR,
        ge=0,
        description="Work orders estimated at or above this value (minor units, i.e. pence) "
        "need approval before release.",
    )
    sla_at_risk_minutes: int = Field(
        default=60,
        ge=0,
        description="An open job counts as 'SLA at risk' this many minutes before a deadline.",
    )
    duplicate_threshold: float = Field(
        default=0.80,
        ge=0,
        le=1,
        description="Similarity (0..1) from which an open request at the same place is "
        "flagged as a possible duplicate.",
    )
    maintenance_lead_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="Default days before a planned service's due date that its request is raised.",
    )
    email_priority: Priority = Field(
        default=Priority.P3, description="Priority of a request logged from an email."
    )
    max_photo_bytes: int = Field(
        default=10 * 1024 * 1024,
        gt=0,
        description="Largest photo POST /request-photos accepts (413 above), in bytes.",
    )


def get_settings() -> IntakeSettings:
    """Intake's settings from the environment."""
    return IntakeSettings()
