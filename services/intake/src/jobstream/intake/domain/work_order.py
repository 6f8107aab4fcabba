"""The work order aggregate: state, evolve and decide (pure; no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from jobstream.contracts.base import Event
from jobstream.contracts.common import Channel, Priority, SiteAddress, WorkOrderDetails
from jobstream.contracts.intake import RequestLogged, WorkOrderReleased
from jobstream.intake.domain.job_types import JOB_TYPES
from jobstream.intake.domain.sla import deadlines


class Status(StrEnum):
    """Where a work order is in intake's part of the lifecycle."""

    NEW = "new"
    LOGGED = "logged"
    RELEASED = "released"


@dataclass(frozen=True)
class WorkOrder:
    """Folded state of one work order stream."""

    id: str
    status: Status = Status.NEW


@dataclass(frozen=True)
class LogRequest:
    """Command: log a request and, in the skeleton, release it at once."""

    work_order_id: str
    customer_id: str
    site: SiteAddress
    channel: Channel
    description: str
    priority: Priority
    job_type: str
    logged_by: str


class DomainError(ValueError):
    """A command that the aggregate refuses; ``field`` names the culprit when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def evolve(state: WorkOrder, event: Event) -> WorkOrder:
    """Apply one event."""
    match event:
        case RequestLogged():
            return replace(state, status=Status.LOGGED)
        case WorkOrderReleased():
            return replace(state, status=Status.RELEASED)
        case _:
            return state


def decide_log_request(state: WorkOrder, cmd: LogRequest, now: datetime) -> list[Event]:
    """RequestLogged, then WorkOrderReleased with the job type's requirements."""
    if state.status is not Status.NEW:
        raise DomainError(f"work order {cmd.work_order_id} already exists")
    job_type = JOB_TYPES.get(cmd.job_type)
    if job_type is None:
        raise DomainError(
            f"unknown job type {cmd.job_type!r}; known: {', '.join(sorted(JOB_TYPES))}",
            field="job_type",
        )
    respond_by, resolve_by = deadlines(cmd.priority, now)
    logged = RequestLogged(
        work_order_id=cmd.work_order_id,
        customer_id=cmd.customer_id,
        site=cmd.site,
        channel=cmd.channel,
        description=cmd.description,
        priority=cmd.priority,
        logged_at=now,
        logged_by=cmd.logged_by,
        respond_by=respond_by,
        resolve_by=resolve_by,
    )
    details = WorkOrderDetails(
        customer_id=cmd.customer_id,
        site=cmd.site,
        job_type=job_type.code,
        description=cmd.description,
        priority=cmd.priority,
        required_skills=job_type.required_skills,
        required_certifications=job_type.required_certifications,
        estimated_duration_minutes=job_type.estimated_duration_minutes,
        respond_by=respond_by,
        resolve_by=resolve_by,
    )
    released = WorkOrderReleased(
        work_order_id=cmd.work_order_id,
        details=details,
        released_by=cmd.logged_by,
        released_at=now,
    )
    return [logged, released]
