"""The office's view of the field: records, parts requests, rejected actions, corrections."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, status
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from jobstream.auth import Principal, Role, require_roles
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.api.deps import Office
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.commands import (
    APPLICABLE_LATER,
    ApplyRejected,
    CorrectMaterial,
    DiscardRejected,
    Reopen,
)
from jobstream.fieldupdates.domain.decide import (
    Refused,
    decide_correct_material,
    decide_discard_rejected,
    decide_reopen,
)
from jobstream.service import Runtime, get_runtime

router = APIRouter(prefix="/office", tags=["office"])
OfficeReader = require_roles(Role.DISPATCHER, Role.ANALYST)


class ReopenBody(BaseModel):
    """Why the job is reopened."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


class CorrectionBody(BaseModel):
    """The quantity in force for a material entry (0: not used after all), and why."""

    model_config = ConfigDict(extra="forbid")
    quantity_milli: int = Field(ge=0, le=10**9)
    reason: str = Field(min_length=1, max_length=500)


async def _command(runtime: Runtime, work_order_id: str, decide_fn: Any) -> dict[str, Any]:
    assert runtime.store is not None
    try:
        await handlers.office_command(
            runtime.engine, runtime.store, work_order_id, decide_fn, datetime.now(UTC)
        )
    except handlers.JobNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such job") from exc
    except Refused as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=exc.reason) from exc
    async with runtime.engine.connect() as conn:
        row = await queries.get_job(conn, work_order_id)
    assert row is not None
    return {
        "work_order_id": work_order_id,
        "status": row["status"],
        "version": row["stream_version"],
    }


@router.post("/jobs/{work_order_id}/reopen", summary="Reopen a completed job (JobReopened)")
async def reopen(
    work_order_id: str,
    body: ReopenBody,
    principal: Annotated[Principal, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Only a completed job; it goes back to in progress on its technician's device."""
    cmd = Reopen(reason=body.reason, by=principal.subject, at=datetime.now(UTC))
    return await _command(runtime, work_order_id, lambda job, a: decide_reopen(job, a, cmd))


@router.post(
    "/jobs/{work_order_id}/materials/{entry_id}/correction",
    summary="Correct a material entry (MaterialUsageCorrected)",
)
async def correct_material(
    work_order_id: str,
    entry_id: str,
    body: CorrectionBody,
    principal: Annotated[Principal, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Billing re-prices from the correction; the original entry stays in the log."""
    cmd = CorrectMaterial(
        entry_id=entry_id,
        quantity_milli=body.quantity_milli,
        reason=body.reason,
        by=principal.subject,
        at=datetime.now(UTC),
    )
    return await _command(
        runtime, work_order_id, lambda job, a: decide_correct_material(job, a, cmd)
    )


@router.get("/parts-requests", summary="Parts requests from the field, newest first")
async def parts_requests(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    work_order_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Visible as soon as the request reaches the server."""
    async with runtime.engine.connect() as conn:
        return jsonable_encoder(await queries.list_parts_requests(conn, work_order_id, limit))


@router.get("/rejected-actions", summary="Device actions that could not be applied, kept whole")
async def rejected_actions(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    work_order_id: str | None = None,
    technician_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Each with its reason, both clocks, the payload exactly as the device sent it, what the
    office made of it (``resolution``: applied, discarded, or null while it waits) and
    whether it may be applied at all (``resolvable``: records of work, not status changes)."""
    async with runtime.engine.connect() as conn:
        rows = await queries.list_rejected(conn, work_order_id, technician_id, limit)
    return jsonable_encoder(
        [{**r, "resolvable": r["action_type"] in APPLICABLE_LATER} for r in rows]
    )


class ApplyBody(BaseModel):
    """An optional note on why the kept action stands."""

    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=500)


class DiscardBody(BaseModel):
    """Why the kept action changes nothing."""

    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500)


@router.post(
    "/jobs/{work_order_id}/rejected-actions/{action_id}/apply",
    summary="Apply a kept device action to the job (RejectedActionApplied and its record)",
)
async def apply_rejected(
    work_order_id: str,
    action_id: str,
    body: ApplyBody,
    principal: Annotated[Principal, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """A time entry, material, parts request or note recorded on the job as it now stands,
    attributed to the technician who did the work; 409 for a status change, or if already
    resolved."""
    cmd = ApplyRejected(
        action_id=action_id, note=body.note, by=principal.subject, at=datetime.now(UTC)
    )
    return await _command(runtime, work_order_id, handlers.applying(cmd))


@router.post(
    "/jobs/{work_order_id}/rejected-actions/{action_id}/discard",
    summary="Discard a kept device action, saying why (RejectedActionDiscarded)",
)
async def discard_rejected(
    work_order_id: str,
    action_id: str,
    body: DiscardBody,
    principal: Annotated[Principal, Depends(Office)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """The kept action stays on record with the office's reason; nothing else changes."""
    cmd = DiscardRejected(
        action_id=action_id, reason=body.reason, by=principal.subject, at=datetime.now(UTC)
    )
    return await _command(runtime, work_order_id, lambda job, _a: decide_discard_rejected(job, cmd))
