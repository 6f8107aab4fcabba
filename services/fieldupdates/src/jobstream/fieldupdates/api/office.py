"""The office's view of the field: records, parts requests, rejected actions, corrections."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field

from jobstream.auth import Principal, Role, require_roles
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.api.deps import Office, handler_context
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.commands import (
    APPLICABLE_LATER,
    ApplyRejected,
    CorrectMaterial,
    DiscardRejected,
    Reopen,
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


Context = Annotated[handlers.Context, Depends(handler_context)]


@router.post("/jobs/{work_order_id}/reopen", summary="Reopen a completed job (JobReopened)")
async def reopen(
    work_order_id: str,
    body: ReopenBody,
    principal: Annotated[Principal, Depends(Office)],
    ctx: Context,
) -> dict[str, Any]:
    """Only a completed job; it goes back to in progress on its technician's device."""
    cmd = Reopen(
        work_order_id=work_order_id,
        reason=body.reason,
        by=principal.subject,
        at=datetime.now(UTC),
    )
    return asdict(await handlers.reopen(cmd, ctx))


@router.post(
    "/jobs/{work_order_id}/materials/{entry_id}/correction",
    summary="Correct a material entry (MaterialUsageCorrected)",
)
async def correct_material(
    work_order_id: str,
    entry_id: str,
    body: CorrectionBody,
    principal: Annotated[Principal, Depends(Office)],
    ctx: Context,
) -> dict[str, Any]:
    """Billing re-prices from the correction; the original entry stays in the log."""
    cmd = CorrectMaterial(
        work_order_id=work_order_id,
        entry_id=entry_id,
        quantity_milli=body.quantity_milli,
        reason=body.reason,
        by=principal.subject,
        at=datetime.now(UTC),
    )
    return asdict(await handlers.correct_material(cmd, ctx))


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


# OpenAPI descriptions kept apart from the docstrings, as published (line breaks included).
REJECTED_ACTIONS_DESCRIPTION = (
    "Each with its reason, both clocks, the payload exactly as the device sent it, what the\n"
    "office made of it (``resolution``: applied, discarded, or null while it waits) and\n"
    "whether it may be applied at all (``resolvable``: records of work, not status changes)."
)
APPLY_REJECTED_DESCRIPTION = (
    "A time entry, material, parts request or note recorded on the job as it now stands,\n"
    "attributed to the technician who did the work; 409 for a status change, or if already\n"
    "resolved."
)


@router.get(
    "/rejected-actions",
    summary="Device actions that could not be applied, kept whole",
    description=REJECTED_ACTIONS_DESCRIPTION,
)
async def rejected_actions(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    work_order_id: str | None = None,
    technician_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """Kept device actions, each with what the office made of it and whether it may apply."""
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
    description=APPLY_REJECTED_DESCRIPTION,
)
async def apply_rejected(
    work_order_id: str,
    action_id: str,
    body: ApplyBody,
    principal: Annotated[Principal, Depends(Office)],
    ctx: Context,
) -> dict[str, Any]:
    """Record a kept record of work on the job, for the technician who did it."""
    cmd = ApplyRejected(
        work_order_id=work_order_id,
        action_id=action_id,
        note=body.note,
        by=principal.subject,
        at=datetime.now(UTC),
    )
    return asdict(await handlers.apply_rejected(cmd, ctx))


@router.post(
    "/jobs/{work_order_id}/rejected-actions/{action_id}/discard",
    summary="Discard a kept device action, saying why (RejectedActionDiscarded)",
)
async def discard_rejected(
    work_order_id: str,
    action_id: str,
    body: DiscardBody,
    principal: Annotated[Principal, Depends(Office)],
    ctx: Context,
) -> dict[str, Any]:
    """The kept action stays on record with the office's reason; nothing else changes."""
    cmd = DiscardRejected(
        work_order_id=work_order_id,
        action_id=action_id,
        reason=body.reason,
        by=principal.subject,
        at=datetime.now(UTC),
    )
    return asdict(await handlers.discard_rejected(cmd, ctx))
