"""Events owned by dispatch, on `workorders.dispatch` and `technicians`."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Contract, Event, UtcDatetime, registry
from jobstream.contracts.common import GeoPoint, Identifier, Priority, SiteAddress, SkillName


@registry.register
class TechnicianRegisteredV1(Event):
    """A technician joined the registry with their skills and home base."""

    event_type: ClassVar[str] = "TechnicianRegistered"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.TECHNICIANS
    subject_field: ClassVar[str] = "technician_id"

    technician_id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=200)]
    skills: tuple[SkillName, ...]
    certifications: tuple[SkillName, ...] = ()
    home_base: GeoPoint
    registered_at: UtcDatetime


@registry.register
class JobScheduledV1(Event):
    """A job was given a technician and a time window; ``reasons`` explain the choice."""

    event_type: ClassVar[str] = "JobScheduled"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.DISPATCH

    work_order_id: Identifier
    technician_id: Identifier
    window_start: UtcDatetime
    window_end: UtcDatetime
    eta: UtcDatetime
    travel_minutes: Annotated[int, Field(ge=0)]
    reasons: tuple[str, ...]


class JobPack(Contract):
    """Everything the technician's device needs to do the job."""

    description: str
    customer_id: Identifier
    site: SiteAddress
    job_type: Identifier
    priority: Priority
    required_skills: tuple[SkillName, ...]
    estimated_duration_minutes: int


@registry.register
class JobDispatchedV1(Event):
    """The job pack was sent to the technician's device."""

    event_type: ClassVar[str] = "JobDispatched"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.DISPATCH

    work_order_id: Identifier
    technician_id: Identifier
    job_pack: JobPack
    dispatched_at: UtcDatetime


TechnicianRegistered = TechnicianRegisteredV1
JobScheduled = JobScheduledV1
JobDispatched = JobDispatchedV1
