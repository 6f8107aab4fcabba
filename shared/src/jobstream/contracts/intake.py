"""Events owned by intake, on `workorders.intake`."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Event, UtcDatetime, registry
from jobstream.contracts.common import Channel, Identifier, Priority, SiteAddress, SkillName


@registry.register
class RequestLoggedV1(Event):
    """A request was logged, from any channel, with its priority and SLA deadlines."""

    event_type: ClassVar[str] = "RequestLogged"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.INTAKE

    work_order_id: Identifier
    customer_id: Identifier
    site: SiteAddress
    channel: Channel
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    priority: Priority
    logged_at: UtcDatetime
    logged_by: Identifier
    respond_by: UtcDatetime
    resolve_by: UtcDatetime


@registry.register
class WorkOrderReleasedV1(Event):
    """The work order is complete and released for scheduling: carries the whole job pack."""

    event_type: ClassVar[str] = "WorkOrderReleased"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.INTAKE

    work_order_id: Identifier
    customer_id: Identifier
    site: SiteAddress
    job_type: Identifier
    description: Annotated[str, Field(min_length=1, max_length=5000)]
    priority: Priority
    required_skills: tuple[SkillName, ...]
    required_certifications: tuple[SkillName, ...] = ()
    estimated_duration_minutes: Annotated[int, Field(gt=0, le=24 * 60)]
    respond_by: UtcDatetime
    resolve_by: UtcDatetime
    released_at: UtcDatetime


RequestLogged = RequestLoggedV1
WorkOrderReleased = WorkOrderReleasedV1
