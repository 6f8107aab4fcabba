"""Events owned by fieldupdates, on `workorders.field`."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Event, UtcDatetime, registry
from jobstream.contracts.common import Identifier, Priority


@registry.register
class JobCompletedV1(Event):
    """The technician completed the job on site."""

    event_type: ClassVar[str] = "JobCompleted"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.FIELD

    work_order_id: Identifier
    technician_id: Identifier
    customer_id: Identifier
    job_type: Identifier
    priority: Priority
    completed_at: UtcDatetime
    labour_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    work_done: Annotated[str, Field(min_length=1, max_length=5000)]
    first_time_fix: bool
    follow_up_needed: bool = False


JobCompleted = JobCompletedV1
