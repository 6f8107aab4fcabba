"""The field job aggregate (skeleton: dispatched → completed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from jobstream.contracts.base import Event
from jobstream.contracts.common import Priority
from jobstream.contracts.field import JobCompleted


class FieldStatus(StrEnum):
    """Where the job stands on the technician's device."""

    DISPATCHED = "dispatched"
    COMPLETED = "completed"


@dataclass(frozen=True)
class Assignment:
    """What fieldupdates knows of a dispatched job (from JobDispatched)."""

    work_order_id: str
    technician_id: str
    customer_id: str
    job_type: str
    priority: Priority
    status: FieldStatus


@dataclass(frozen=True)
class CompleteJob:
    """Command: the technician reports the job done."""

    technician_id: str
    labour_minutes: int
    work_done: str
    first_time_fix: bool
    follow_up_needed: bool


class TransitionRefused(ValueError):
    """The job is not in a state that allows this; the message names the allowed ones."""


def decide_complete(job: Assignment, cmd: CompleteJob, now: datetime) -> list[Event]:
    """JobCompleted, if the job is dispatched to this technician and still open."""
    if job.status is not FieldStatus.DISPATCHED:
        raise TransitionRefused(
            f"job {job.work_order_id} is {job.status.value}; completion is allowed only from "
            f"{FieldStatus.DISPATCHED.value}"
        )
    return [
        JobCompleted(
            work_order_id=job.work_order_id,
            technician_id=cmd.technician_id,
            customer_id=job.customer_id,
            job_type=job.job_type,
            priority=job.priority,
            completed_at=now,
            device_time=now,
            received_at=now,
            labour_minutes=cmd.labour_minutes,
            work_done=cmd.work_done,
            first_time_fix=cmd.first_time_fix,
            follow_up_needed=cmd.follow_up_needed,
        )
    ]
