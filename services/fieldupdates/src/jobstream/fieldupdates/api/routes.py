"""The technician's routes: my jobs, complete a job."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from jobstream.auth import Principal, Role, require_roles
from jobstream.contracts.common import Priority
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.job import (
    Assignment,
    CompleteJob,
    FieldStatus,
    TransitionRefused,
    decide_complete,
)
from jobstream.service import Runtime, get_runtime

router = APIRouter(prefix="/jobs", tags=["field"])
TechnicianOrOffice = require_roles(Role.TECHNICIAN, Role.DISPATCHER)
Technician = require_roles(Role.TECHNICIAN)


class CompleteJobBody(BaseModel):
    """What the technician reports at completion."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "labour_minutes": 75,
                    "work_done": "Replaced diverter valve; tested heating and hot water",
                    "first_time_fix": True,
                    "follow_up_needed": False,
                }
            ]
        },
    )

    labour_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    work_done: Annotated[str, Field(min_length=1, max_length=5000)]
    first_time_fix: bool
    follow_up_needed: bool = False


def _owned(principal: Principal, row: dict[str, Any] | None) -> dict[str, Any]:
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such job")
    if principal.role is Role.TECHNICIAN and row["technician_id"] != principal.technician_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this job is not assigned to you")
    return row


@router.get("", summary="My jobs (technician) or every job (office)")
async def list_jobs(
    principal: Annotated[Principal, Depends(TechnicianOrOffice)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> list[dict[str, Any]]:
    """A technician sees only the jobs dispatched to them."""
    scope = principal.technician_id if principal.role is Role.TECHNICIAN else None
    async with runtime.engine.connect() as conn:
        return await queries.jobs_of(conn, scope)


@router.get("/{work_order_id}", summary="One job with its job pack")
async def get_job(
    work_order_id: str,
    principal: Annotated[Principal, Depends(TechnicianOrOffice)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Another technician's job answers 403."""
    async with runtime.engine.connect() as conn:
        return _owned(principal, await queries.get_assignment(conn, work_order_id))


@router.post("/{work_order_id}/complete", summary="Complete the job (JobCompleted)")
async def complete_job(
    work_order_id: str,
    body: CompleteJobBody,
    principal: Annotated[Principal, Depends(Technician)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Only the assigned technician may complete; a completed job answers 409."""
    assert runtime.store is not None
    async with runtime.engine.begin() as conn:
        # Row lock: two taps on "complete" from a flaky device must not both succeed.
        row = _owned(principal, await queries.get_assignment(conn, work_order_id, for_update=True))
        pack = row["job_pack"]["details"]
        job = Assignment(
            work_order_id=work_order_id,
            technician_id=row["technician_id"],
            customer_id=pack["customer_id"],
            job_type=pack["job_type"],
            priority=Priority(pack["priority"]),
            status=FieldStatus(row["status"]),
        )
        cmd = CompleteJob(
            technician_id=principal.technician_id or row["technician_id"],
            labour_minutes=body.labour_minutes,
            work_done=body.work_done,
            first_time_fix=body.first_time_fix,
            follow_up_needed=body.follow_up_needed,
        )
        now = datetime.now(UTC)
        try:
            new_events = decide_complete(job, cmd, now)
        except TransitionRefused as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
        version = await runtime.store.current_version(conn, work_order_id)
        await runtime.store.append(conn, work_order_id, version, new_events)
        await queries.mark_completed(conn, work_order_id, now)
    return {"work_order_id": work_order_id, "status": "completed", "completed_at": now}
