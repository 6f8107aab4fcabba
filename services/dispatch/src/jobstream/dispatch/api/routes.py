"""Dispatch's routes: technician registry, dispatcher overrides, jobs and the board."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.auth import Principal, Role, require_roles
from jobstream.dispatch import board as dispatch_board
from jobstream.dispatch import handlers
from jobstream.dispatch.api.schemas import (
    AbsenceBody,
    AssignBody,
    OptimiseBody,
    ProfileBody,
    RegisterTechnicianBody,
    UnassignBody,
)
from jobstream.dispatch.config import DispatchSettings, get_settings
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import idempotency_keys
from jobstream.dispatch.domain.technicians import DomainError
from jobstream.idempotency import IdempotentCall
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["dispatch"])
DispatcherOrAdmin = require_roles(Role.DISPATCHER, Role.ADMIN)
Reader = require_roles(Role.DISPATCHER, Role.ANALYST, Role.ADMIN)
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


async def _settings(request: Request) -> DispatchSettings:
    """Read from the environment once per process, not on every request."""
    settings: DispatchSettings | None = getattr(request.app.state, "dispatch_settings", None)
    if settings is None:
        settings = request.app.state.dispatch_settings = get_settings()
    return settings


Settings = Annotated[DispatchSettings, Depends(_settings)]


async def _command(
    runtime: Runtime,
    principal: Principal,
    scope: str,
    key: str | None,
    payload: Any,
    success: int,
    run: Callable[[AsyncConnection], Awaitable[dict[str, Any]]],
) -> JSONResponse:
    """One transaction per command, with an optional idempotency key; domain refusals → 4xx."""
    try:
        call = IdempotentCall.of(
            idempotency_keys, command=scope, caller=principal.subject, key=key, payload=payload
        )
        async with runtime.engine.begin() as conn:
            seen = await call.replay(conn)
            if seen is not None:
                return JSONResponse(seen[1], status_code=seen[0])
            body = await run(conn)
            await call.keep(conn, success, body)
    except DomainError as exc:
        if exc.status == status.HTTP_422_UNPROCESSABLE_CONTENT:
            raise HTTPException(exc.status, detail=invalid(exc.field, str(exc))) from exc
        detail: Any = str(exc) if exc.field is None else {"field": exc.field, "error": str(exc)}
        raise HTTPException(exc.status, detail=detail) from exc
    except handlers.CommandRejected as exc:
        if exc.status == status.HTTP_422_UNPROCESSABLE_CONTENT and isinstance(exc.detail, dict):
            raise HTTPException(
                exc.status, detail=invalid(exc.detail.get("field"), exc.detail["error"])
            ) from exc
        raise HTTPException(exc.status, detail=exc.detail) from exc
    return JSONResponse(body, status_code=success)


def invalid(field: str | None, message: str) -> list[dict[str, Any]]:
    """A 422's detail shaped like FastAPI's own validation errors (as the OpenAPI document
    declares every 422), naming the body field."""
    loc = ["body", field] if field else ["body"]
    return [{"loc": loc, "msg": message, "type": "value_error"}]


def _now() -> datetime:
    return datetime.now(UTC)


# -- technicians -------------------------------------------------------------------------


@router.post("/technicians", status_code=status.HTTP_201_CREATED, summary="Register a technician")
async def register_technician(
    body: RegisterTechnicianBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """TechnicianRegistered on `technicians`; 409 if the id exists. Waiting jobs are retried."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        version = await handlers.register_technician(
            conn, settings, body.technician_id, body.profile(), _now()
        )
        return {"technician_id": body.technician_id, "version": version}

    return await _command(
        runtime,
        principal,
        "register_technician",
        idempotency_key,
        body.model_dump(mode="json"),
        201,
        run,
    )


@router.put("/technicians/{technician_id}", summary="Replace a technician's profile")
async def update_technician(
    technician_id: str,
    body: ProfileBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    if_match: Annotated[int | None, Header(alias="If-Match")] = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """TechnicianProfileUpdated; their planned visits are re-checked. If-Match: the version
    read (409 if it moved on)."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        version = await handlers.update_technician(
            conn, settings, technician_id, body.profile(), principal.subject, _now(), if_match
        )
        return {"technician_id": technician_id, "version": version}

    payload = {"id": technician_id, **body.model_dump(mode="json")}
    return await _command(
        runtime, principal, "update_technician", idempotency_key, payload, 200, run
    )


@router.post(
    "/technicians/{technician_id}/absences",
    status_code=status.HTTP_201_CREATED,
    summary="Record an absence",
)
async def record_absence(
    technician_id: str,
    body: AbsenceBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """TechnicianAbsenceRecorded; visits inside it are moved or unscheduled."""
    absence_id = body.absence_id or f"abs-{uuid.uuid4().hex[:12]}"

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        version = await handlers.record_absence(
            conn,
            settings,
            technician_id,
            absence_id,
            body.starts_at.astimezone(UTC),
            body.ends_at.astimezone(UTC),
            body.reason,
            principal.subject,
            _now(),
        )
        return {"technician_id": technician_id, "absence_id": absence_id, "version": version}

    payload = {"id": technician_id, **body.model_dump(mode="json")}
    return await _command(runtime, principal, "record_absence", idempotency_key, payload, 201, run)


@router.delete("/technicians/{technician_id}/absences/{absence_id}", summary="Cancel an absence")
async def cancel_absence(
    technician_id: str,
    absence_id: str,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
) -> JSONResponse:
    """TechnicianAbsenceCancelled; the freed time may take waiting jobs."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        version = await handlers.cancel_absence(
            conn, settings, technician_id, absence_id, principal.subject, _now()
        )
        return {"technician_id": technician_id, "absence_id": absence_id, "version": version}

    return await _command(runtime, principal, "cancel_absence", None, None, 200, run)


@router.get("/technicians", summary="The technician registry")
async def list_technicians(
    _principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> list[dict[str, Any]]:
    """Every registered technician with their live location."""
    async with runtime.engine.connect() as conn:
        return await queries.technician_rows(conn)


@router.get("/technicians/{technician_id}", summary="One technician")
async def get_technician(
    technician_id: str,
    _principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Profile, version (for If-Match) and absences."""
    async with runtime.engine.connect() as conn:
        found = await queries.technician_row(conn, technician_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such technician")
    return found


# -- jobs and overrides ------------------------------------------------------------------


@router.get("/jobs/{work_order_id}", summary="One job as dispatch sees it")
async def get_job(
    work_order_id: str,
    _principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """State, technician, window, travel, the reasons and the candidates considered."""
    async with runtime.engine.connect() as conn:
        job = await queries.job_view(conn, work_order_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such job")
    return job


def _override(work_order_id: str, body: AssignBody, principal: Principal) -> handlers.Override:
    return handlers.Override(
        work_order_id=work_order_id,
        technician_id=body.technician_id,
        start=body.start.astimezone(UTC) if body.start else None,
        force=body.force,
        force_reason=body.force_reason,
        by=principal.subject,
        command_id=str(uuid.uuid4()),
        at=_now(),
    )


async def _job_answer(conn: AsyncConnection, work_order_id: str) -> dict[str, Any]:
    view = await queries.job_view(conn, work_order_id)
    assert view is not None
    return {
        "work_order_id": work_order_id,
        "state": view["state"],
        "technician_id": view["technician_id"],
        "window_start": view["window_start"].isoformat() if view["window_start"] else None,
        "window_end": view["window_end"].isoformat() if view["window_end"] else None,
        "forced": view["forced"],
    }


@router.post("/jobs/{work_order_id}/assign", summary="Assign a job to a technician")
async def assign_job(
    work_order_id: str,
    body: AssignBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Checked against the hard constraints (409 listing what breaks); ``force`` with a
    ``force_reason`` records a deliberate breach."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        cmd = _override(work_order_id, body, principal)
        await handlers.assign(conn, settings, cmd, must_be_placed=False)
        return await _job_answer(conn, work_order_id)

    payload = {"id": work_order_id, **body.model_dump(mode="json")}
    return await _command(runtime, principal, "assign_job", idempotency_key, payload, 200, run)


@router.post("/jobs/{work_order_id}/move", summary="Move a scheduled job")
async def move_job(
    work_order_id: str,
    body: AssignBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Another technician and/or time, under the same checks as assign."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        cmd = _override(work_order_id, body, principal)
        await handlers.assign(conn, settings, cmd, must_be_placed=True)
        return await _job_answer(conn, work_order_id)

    payload = {"id": work_order_id, **body.model_dump(mode="json")}
    return await _command(runtime, principal, "move_job", idempotency_key, payload, 200, run)


@router.post("/jobs/{work_order_id}/unassign", summary="Take a job off its technician")
async def unassign_job(
    work_order_id: str,
    body: UnassignBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """JobUnscheduled; the job waits, held, until a dispatcher assigns it again."""

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        await handlers.unassign(
            conn, settings, work_order_id, body.reason, principal.subject, str(uuid.uuid4()), _now()
        )
        return await _job_answer(conn, work_order_id)

    payload = {"id": work_order_id, **body.model_dump(mode="json")}
    return await _command(runtime, principal, "unassign_job", idempotency_key, payload, 200, run)


@router.post("/plan/optimise", summary="Re-solve one day with the day optimiser")
async def optimise_day(
    body: OptimiseBody,
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """VROOM over the day's movable visits and waiting jobs (frozen and forced visits stay);
    each moved job gets JobRescheduled. Jobs may move freely: the office's deliberate act."""
    start, end = dispatch_board.day_bounds(body.day, settings.business_time_zone)

    async def run(conn: AsyncConnection) -> dict[str, Any]:
        return await handlers.optimise_day(
            conn, settings, start, end, principal.subject, str(uuid.uuid4()), _now()
        )

    return await _command(
        runtime, principal, "optimise_day", idempotency_key, body.model_dump(mode="json"), 200, run
    )


# -- board -------------------------------------------------------------------------------


@router.get("/board", summary="The dispatch board for one day")
async def board(
    _principal: Annotated[Principal, Depends(Reader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    day: Annotated[date | None, Query(description="Local day (default: today)")] = None,
) -> dict[str, Any]:
    """Priority tiers (SLA risk first), each technician's timeline with live status and
    location, the unscheduled and failed lanes."""
    now = _now()
    zone = settings.business_time_zone
    from zoneinfo import ZoneInfo

    day = day or now.astimezone(ZoneInfo(zone)).date()
    start, end = dispatch_board.day_bounds(day, zone)
    async with runtime.engine.connect() as conn:
        rows = await queries.board_rows(conn, start, end)
        techs = await queries.technician_rows(conn)
        absences = await queries.absence_rows(conn)
    return dispatch_board.build(
        day, zone, rows, techs, now, timedelta(minutes=settings.at_risk_minutes), absences
    )
