"""Events owned by dispatch: technicians and scheduling decisions.

Technicians are on `technicians` (subject: technician id), scheduling decisions on
`workorders.dispatch` (subject: work order id).
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field, model_validator

from jobstream.contracts import topics
from jobstream.contracts.base import Contract, Event, UtcDatetime, registry
from jobstream.contracts.common import (
    Certification,
    GeoPoint,
    Identifier,
    ShortText,
    SkillLevel,
    WorkOrderDetails,
)

# ---------------------------------------------------------------------------------------
# technicians


class Shift(Contract):
    """A weekly working period in the technician's local time (0 = Monday)."""

    weekday: Annotated[int, Field(ge=0, le=6)]
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> Shift:
        if self.end <= self.start:
            raise ValueError("shift end must be after its start (split overnight shifts)")
        return self


class DriveHome(StrEnum):
    """Whether the drive back to the home base after a period's last visit must fit, and where.

    ``in_shift``: home by the end of the shift; ``in_overtime``: home by the end of the
    overtime the technician may work (the shift's end when none); ``not_counted``: the
    drive home is the technician's own time (ADR 0085).
    """

    NOT_COUNTED = "not_counted"
    IN_SHIFT = "in_shift"
    IN_OVERTIME = "in_overtime"


class TechnicianProfile(Contract):
    """What dispatch knows of a technician; sent whole on registration and every change."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    skills: tuple[SkillLevel, ...]
    certifications: tuple[Certification, ...] = ()
    home_base: GeoPoint
    time_zone: str = "Europe/London"
    shifts: tuple[Shift, ...] = ()
    overtime_allowed: bool = False
    max_overtime_minutes: Annotated[int, Field(ge=0, le=8 * 60)] = 0
    active: bool = True
    # None: the business's rule (DISPATCH_DRIVE_HOME).
    drive_home: DriveHome | None = None


class TechnicianEvent(Event):
    """Base of the events on the `technicians` topic."""

    topic: ClassVar[str] = topics.TECHNICIANS
    schema_version: ClassVar[int] = 1
    subject_field: ClassVar[str] = "technician_id"

    technician_id: Identifier


@registry.register
class TechnicianRegisteredV1(TechnicianEvent):
    """A technician joined the registry."""

    event_type: ClassVar[str] = "TechnicianRegistered"

    profile: TechnicianProfile
    registered_at: UtcDatetime


@registry.register
class TechnicianProfileUpdatedV1(TechnicianEvent):
    """Skills, certifications, shifts or home base changed: ``profile`` is the new whole."""

    event_type: ClassVar[str] = "TechnicianProfileUpdated"

    profile: TechnicianProfile
    changed_fields: tuple[str, ...]
    updated_by: Identifier
    updated_at: UtcDatetime


@registry.register
class TechnicianAbsenceRecordedV1(TechnicianEvent):
    """Leave, sickness, training: the technician cannot work from ``starts_at`` to ``ends_at``."""

    event_type: ClassVar[str] = "TechnicianAbsenceRecorded"

    absence_id: Identifier
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    reason: ShortText
    recorded_by: Identifier
    recorded_at: UtcDatetime

    @model_validator(mode="after")
    def _ordered(self) -> TechnicianAbsenceRecordedV1:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


@registry.register
class TechnicianAbsenceCancelledV1(TechnicianEvent):
    """An absence recorded earlier no longer applies."""

    event_type: ClassVar[str] = "TechnicianAbsenceCancelled"

    absence_id: Identifier
    cancelled_by: Identifier
    cancelled_at: UtcDatetime


# ---------------------------------------------------------------------------------------
# scheduling decisions


class CandidateAssessment(Contract):
    """How one technician fared for a job: the explanation of a decision."""

    technician_id: Identifier
    eligible: bool
    reason: ShortText
    travel_minutes: Annotated[int, Field(ge=0)] | None = None


class DispatchEvent(Event):
    """Base of the events on `workorders.dispatch`."""

    topic: ClassVar[str] = topics.DISPATCH
    schema_version: ClassVar[int] = 1

    work_order_id: Identifier


class _Decision(DispatchEvent):
    """Who decided and, for a dispatcher's deliberate breach of a hard rule, why."""

    decided_by: Identifier = "engine"
    forced: bool = False
    force_reason: Annotated[str, Field(max_length=2000)] | None = None
    reasons: tuple[str, ...] = ()
    considered: tuple[CandidateAssessment, ...] = ()

    @model_validator(mode="after")
    def _forced_needs_reason(self) -> _Decision:
        if self.forced and not self.force_reason:
            raise ValueError("a forced decision must record force_reason")
        return self


@registry.register
class JobScheduledV1(_Decision):
    """A job was given a technician and a time; ``reasons`` explain the choice."""

    event_type: ClassVar[str] = "JobScheduled"

    technician_id: Identifier
    window_start: UtcDatetime
    window_end: UtcDatetime
    eta: UtcDatetime
    travel_minutes: Annotated[int, Field(ge=0)]
    travel_km: Annotated[float, Field(ge=0)] = 0.0
    scheduled_at: UtcDatetime


@registry.register
class JobRescheduledV1(_Decision):
    """A scheduled job moved: another time, another technician, or both."""

    event_type: ClassVar[str] = "JobRescheduled"

    technician_id: Identifier
    previous_technician_id: Identifier
    window_start: UtcDatetime
    window_end: UtcDatetime
    previous_window_start: UtcDatetime
    eta: UtcDatetime
    travel_minutes: Annotated[int, Field(ge=0)]
    travel_km: Annotated[float, Field(ge=0)] = 0.0
    rescheduled_at: UtcDatetime


@registry.register
class JobUnscheduledV1(_Decision):
    """The job lost its technician and time; it is back in the unscheduled lane."""

    event_type: ClassVar[str] = "JobUnscheduled"

    technician_id: Identifier
    reason: ShortText
    unscheduled_at: UtcDatetime


class SchedulingFailureReason(StrEnum):
    """Why the engine could not place a job."""

    NO_QUALIFIED_TECHNICIAN = "no_qualified_technician"
    NO_CAPACITY_BEFORE_DEADLINE = "no_capacity_before_deadline"
    OUTSIDE_CUSTOMER_WINDOW = "outside_customer_window"
    OTHER = "other"


@registry.register
class SchedulingFailedV1(DispatchEvent):
    """The job could not be placed; it waits in the failed lane for the office."""

    event_type: ClassVar[str] = "SchedulingFailed"

    reason: SchedulingFailureReason
    detail: ShortText
    considered: tuple[CandidateAssessment, ...] = ()
    failed_at: UtcDatetime


class CarriedNote(Contract):
    """A note a technician left at the site for the next visit."""

    note_id: Identifier
    work_order_id: Identifier
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    written_by: Identifier
    written_at: UtcDatetime


class SiteVisit(Contract):
    """One earlier job at the site, for the device's site history."""

    work_order_id: Identifier
    job_type: Identifier
    technician_id: Identifier | None = None
    completed_at: UtcDatetime
    outcome: Annotated[str, Field(max_length=40)]
    summary: Annotated[str, Field(max_length=2000)] = ""


class JobPack(Contract):
    """Everything the technician's device needs to do the job, offline if need be."""

    details: WorkOrderDetails
    window_start: UtcDatetime
    window_end: UtcDatetime
    notes_carried_forward: tuple[CarriedNote, ...] = ()
    site_history: tuple[SiteVisit, ...] = ()


@registry.register
class JobDispatchedV1(DispatchEvent):
    """The job pack was sent to the technician's device.

    Sent when a job is first scheduled, again to the new technician when it is reassigned,
    and again when the work order is amended; the device keeps the latest.
    """

    event_type: ClassVar[str] = "JobDispatched"

    technician_id: Identifier
    job_pack: JobPack
    dispatched_at: UtcDatetime


TechnicianRegistered = TechnicianRegisteredV1
TechnicianProfileUpdated = TechnicianProfileUpdatedV1
TechnicianAbsenceRecorded = TechnicianAbsenceRecordedV1
TechnicianAbsenceCancelled = TechnicianAbsenceCancelledV1
JobScheduled = JobScheduledV1
JobRescheduled = JobRescheduledV1
JobUnscheduled = JobUnscheduledV1
SchedulingFailed = SchedulingFailedV1
JobDispatched = JobDispatchedV1
