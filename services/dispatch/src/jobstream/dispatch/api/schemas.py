"""Request bodies of dispatch's API."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from jobstream.contracts.common import Certification, GeoPoint, Identifier, SkillLevel
from jobstream.contracts.dispatch import DriveHome, Shift, TechnicianProfile


class ProfileBody(BaseModel):
    """A technician's whole profile."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    skills: Annotated[list[SkillLevel], Field(min_length=1)]
    certifications: list[Certification] = []
    home_base: GeoPoint
    time_zone: str = "Europe/London"
    shifts: list[Shift] = Field(
        default=[],
        description="Weekly shifts in local time (0 = Monday). No shifts: never scheduled.",
    )
    overtime_allowed: bool = False
    max_overtime_minutes: Annotated[int, Field(ge=0, le=8 * 60)] = 0
    active: bool = True
    drive_home: DriveHome | None = Field(
        default=None,
        description="Whether the drive home must fit: in_overtime, in_shift or not_counted; "
        "absent: the business's rule (DISPATCH_DRIVE_HOME).",
    )

    def profile(self) -> TechnicianProfile:
        """As the contract's value."""
        return TechnicianProfile(
            name=self.name,
            skills=tuple(self.skills),
            certifications=tuple(self.certifications),
            home_base=self.home_base,
            time_zone=self.time_zone,
            shifts=tuple(self.shifts),
            overtime_allowed=self.overtime_allowed,
            max_overtime_minutes=self.max_overtime_minutes,
            active=self.active,
            drive_home=self.drive_home,
        )


class RegisterTechnicianBody(ProfileBody):
    """A technician joining the registry."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "technician_id": "tech-amir",
                    "name": "Amir Patel",
                    "skills": [{"name": "gas_boiler", "level": 4}, {"name": "plumbing"}],
                    "certifications": [{"name": "gas_safe", "expires_on": "2027-06-30"}],
                    "home_base": {"lat": 53.45, "lon": -2.25},
                    "time_zone": "Europe/London",
                    "shifts": [{"weekday": d, "start": "08:00", "end": "17:00"} for d in range(5)],
                    "overtime_allowed": True,
                    "max_overtime_minutes": 60,
                }
            ]
        },
    )

    technician_id: Identifier


class AbsenceBody(BaseModel):
    """Leave, sickness, training."""

    model_config = ConfigDict(extra="forbid")

    absence_id: Identifier | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(min_length=1, max_length=500)]

    @model_validator(mode="after")
    def _ordered(self) -> AbsenceBody:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class AssignBody(BaseModel):
    """Put a job on a technician: at ``start``, or where the engine finds room on them."""

    model_config = ConfigDict(extra="forbid")

    technician_id: Identifier
    start: AwareDatetime | None = None
    force: bool = False
    force_reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None

    @model_validator(mode="after")
    def _force_needs_reason(self) -> AssignBody:
        if self.force and not self.force_reason:
            raise ValueError("force_reason is required when force is true")
        if self.force and self.start is None:
            raise ValueError("start is required when force is true")
        return self


class UnassignBody(BaseModel):
    """Take a job off its technician."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=500)]


class OptimiseBody(BaseModel):
    """Which local day to re-solve."""

    model_config = ConfigDict(extra="forbid")

    day: date
