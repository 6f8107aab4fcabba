"""Reporting's routes: job timeline, status and counts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, status

from jobstream.auth import Role, require_roles
from jobstream.reporting.db import queries
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["reporting"])
Reader = require_roles(Role.DISPATCHER, Role.ANALYST)


@router.get("/jobs/{work_order_id}/timeline", summary="A job's full history, every service")
async def job_timeline(
    work_order_id: str,
    _principal: Annotated[Any, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Status plus every event of the work order in causal order."""
    async with runtime.engine.connect() as conn:
        events = await queries.timeline_of(conn, work_order_id)
        current = await queries.status_of(conn, work_order_id)
    if not events:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no events for this work order")
    return {"work_order_id": work_order_id, "status": current, "events": events}


@router.get("/stats", summary="Simple counts")
async def stats(
    _principal: Annotated[Any, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, dict[str, int]]:
    """Jobs by status and events by type."""
    async with runtime.engine.connect() as conn:
        return await queries.counts(conn)
