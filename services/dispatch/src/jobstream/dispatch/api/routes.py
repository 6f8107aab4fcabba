"""Dispatch's routes: technician registry, dispatcher overrides, jobs and the board."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, Query, Request, Response, status
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.api.commands import IdempotencyKey, expected_version, run_command
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
from jobstream.dispatch.domain import commands
from jobstream.dispatch.handlers import Context
from jobstream.errors import NotFoundError
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["dispatch"])
DispatcherOrAdmin = require_roles(Role.DISPATCHER, Role.ADMIN)
# The admin passes every role check (require_roles adds it).
OfficeReader = require_roles(Role.DISPATCHER, Role.ANALYST)
IfMatch = Annotated[str | None, Header(alias="If-Match")]


async def _settings(request: Request) -> DispatchSettings:
    """Read from the environment once per process, not on every request."""
    settings: DispatchSettings | None = getattr(request.app.state, "dispatch_settings", None)
    if settings is None:
        settings = request.app.state.dispatch_settings = get_settings()
    return settings


Settings = Annotated[DispatchSettings, Depends(_settings)]


@dataclass(frozen=True)
class Call:
    """One office command's request: who asks, dispatch's runtime and settings, the answer."""

    principal: Principal
    runtime: Runtime
    settings: DispatchSettings
    response: Response

    async def run(
        self,
        *,
        command: str,
        key: str | None,
        payload: Any,
        status_code: int = status.HTTP_200_OK,
        work: Callable[[Context], Awaitable[dict[str, Any]]],
    ) -> Any:
        """The body of the command's answer: ``work`` run once per key (``run_command``)."""

        async def in_transaction(conn: AsyncConnection) -> dict[str, Any]:
            return await work(Context(conn, self.settings))

        answer = await run_command(
            self.runtime.engine,
            idempotency_keys,
            self.principal,
            command=command,
            key=key,
            payload=payload,
            status_code=status_code,
            work=in_transaction,
        )
        return answer.onto(self.response)


async def _office_call(
    principal: Annotated[Principal, Depends(DispatcherOrAdmin)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    response: Response,
) -> Call:
    """A command of the office's (a dispatcher or an admin)."""
    return Call(principal, runtime, settings, response)


OfficeCall = Annotated[Call, Depends(_office_call)]


def _now() -> datetime:
    """The command's time."""
    return datetime.now(UTC)


# -- technicians -------------------------------------------------------------------------


@router.post(
    "/technicians",
    status_code=status.HTTP_201_CREATED,
    response_model=None,
    summary="Register a technician",
)
async def register_technician(
    body: RegisterTechnicianBody, call: OfficeCall, idempotency_key: IdempotencyKey = None
) -> Any:
    """TechnicianRegistered on `technicians`; 409 if the id exists. Waiting jobs are retried."""

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.RegisterTechnician(body.technician_id, body.profile(), _now())
        version = await handlers.register_technician(cmd, ctx)
        return {"technician_id": body.technician_id, "version": version}

    payload = body.model_dump(mode="json")
    return await call.run(
        command="register_technician",
        key=idempotency_key,
        payload=payload,
        status_code=status.HTTP_201_CREATED,
        work=work,
    )


@router.put(
    "/technicians/{technician_id}", response_model=None, summary="Replace a technician's profile"
)
async def update_technician(
    technician_id: str,
    body: ProfileBody,
    call: OfficeCall,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """TechnicianProfileUpdated; their planned visits are re-checked.

    If-Match: the version read (409 if it moved on).
    """
    version_read = expected_version(if_match)
    by = call.principal.subject

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.UpdateTechnician(technician_id, body.profile(), by, _now(), version_read)
        version = await handlers.update_technician(cmd, ctx)
        return {"technician_id": technician_id, "version": version}

    payload = {"id": technician_id, **body.model_dump(mode="json")}
    return await call.run(
        command="update_technician", key=idempotency_key, payload=payload, work=work
    )


@router.post(
    "/technicians/{technician_id}/absences",
    status_code=status.HTTP_201_CREATED,
    response_model=None,
    summary="Record an absence",
)
async def record_absence(
    technician_id: str,
    body: AbsenceBody,
    call: OfficeCall,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """TechnicianAbsenceRecorded; visits inside it are moved or unscheduled."""
    absence_id = body.absence_id or f"abs-{uuid.uuid4().hex[:12]}"

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.RecordAbsence(
            technician_id=technician_id,
            absence_id=absence_id,
            starts_at=body.starts_at.astimezone(UTC),
            ends_at=body.ends_at.astimezone(UTC),
            reason=body.reason,
            by=call.principal.subject,
            at=_now(),
        )
        version = await handlers.record_absence(cmd, ctx)
        return {"technician_id": technician_id, "absence_id": absence_id, "version": version}

    payload = {"id": technician_id, **body.model_dump(mode="json")}
    return await call.run(
        command="record_absence",
        key=idempotency_key,
        payload=payload,
        status_code=status.HTTP_201_CREATED,
        work=work,
    )


@router.delete(
    "/technicians/{technician_id}/absences/{absence_id}",
    response_model=None,
    summary="Cancel an absence",
)
async def cancel_absence(technician_id: str, absence_id: str, call: OfficeCall) -> Any:
    """TechnicianAbsenceCancelled; the freed time may take waiting jobs."""

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.CancelAbsence(technician_id, absence_id, call.principal.subject, _now())
        version = await handlers.cancel_absence(cmd, ctx)
        return {"technician_id": technician_id, "absence_id": absence_id, "version": version}

    return await call.run(command="cancel_absence", key=None, payload=None, work=work)


@router.get("/technicians", summary="The technician registry")
async def list_technicians(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> list[dict[str, Any]]:
    """Every registered technician with their live location."""
    async with runtime.engine.connect() as conn:
        return await queries.technician_rows(conn)


@router.get("/technicians/{technician_id}", summary="One technician")
async def get_technician(
    technician_id: str,
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """Profile, version (for If-Match) and absences."""
    async with runtime.engine.connect() as conn:
        found = await queries.technician_row(conn, technician_id)
    if found is None:
        raise NotFoundError("no such technician")
    return found


# -- jobs and overrides ------------------------------------------------------------------


@router.get("/jobs/{work_order_id}", summary="One job as dispatch sees it")
async def get_job(
    work_order_id: str,
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> dict[str, Any]:
    """State, technician, window, travel, the reasons and the candidates considered."""
    async with runtime.engine.connect() as conn:
        job = await queries.job_view(conn, work_order_id)
    if job is None:
        raise NotFoundError("no such job")
    return job


def _override(
    kind: type[commands.Override], work_order_id: str, body: AssignBody, by: str
) -> commands.Override:
    """The dispatcher's assign or move (``kind``), as the command the handlers take."""
    return kind(
        work_order_id=work_order_id,
        technician_id=body.technician_id,
        start=body.start.astimezone(UTC) if body.start else None,
        force=body.force,
        force_reason=body.force_reason,
        by=by,
        command_id=str(uuid.uuid4()),
        at=_now(),
    )


async def _job_answer(conn: AsyncConnection, work_order_id: str) -> dict[str, Any]:
    """The job as a command on it left it: state, technician, window, whether forced."""
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


async def _overriding(
    call: Call,
    work_order_id: str,
    body: AssignBody,
    *,
    command: str,
    key: str | None,
    kind: type[commands.Override],
) -> Any:
    """The answer to an assign or a move: handle the override, answer with the job."""

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = _override(kind, work_order_id, body, call.principal.subject)
        await handlers.HANDLERS.handle(cmd, ctx)
        return await _job_answer(ctx.conn, work_order_id)

    payload = {"id": work_order_id, **body.model_dump(mode="json")}
    return await call.run(command=command, key=key, payload=payload, work=work)


@router.post(
    "/jobs/{work_order_id}/assign", response_model=None, summary="Assign a job to a technician"
)
async def assign_job(
    work_order_id: str, body: AssignBody, call: OfficeCall, idempotency_key: IdempotencyKey = None
) -> Any:
    """Checked against the hard constraints (409 listing what breaks).

    ``force`` with a ``force_reason`` records a deliberate breach.
    """
    return await _overriding(
        call, work_order_id, body, command="assign_job", key=idempotency_key, kind=commands.Override
    )


@router.post("/jobs/{work_order_id}/move", response_model=None, summary="Move a scheduled job")
async def move_job(
    work_order_id: str, body: AssignBody, call: OfficeCall, idempotency_key: IdempotencyKey = None
) -> Any:
    """Another technician and/or time, under the same checks as assign."""
    return await _overriding(
        call, work_order_id, body, command="move_job", key=idempotency_key, kind=commands.Move
    )


@router.post(
    "/jobs/{work_order_id}/unassign", response_model=None, summary="Take a job off its technician"
)
async def unassign_job(
    work_order_id: str,
    body: UnassignBody,
    call: OfficeCall,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    """JobUnscheduled; the job waits, held, until a dispatcher assigns it again."""
    by = call.principal.subject

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.Unassign(work_order_id, body.reason, by, str(uuid.uuid4()), _now())
        await handlers.unassign(cmd, ctx)
        return await _job_answer(ctx.conn, work_order_id)

    payload = {"id": work_order_id, **body.model_dump(mode="json")}
    return await call.run(command="unassign_job", key=idempotency_key, payload=payload, work=work)


@router.post(
    "/plan/optimise", response_model=None, summary="Re-solve one day with the day optimiser"
)
async def optimise_day(
    body: OptimiseBody, call: OfficeCall, idempotency_key: IdempotencyKey = None
) -> Any:
    """VROOM over the day's movable visits and waiting jobs (frozen and forced visits stay).

    Each moved job gets JobRescheduled. Jobs may move freely: the office's deliberate act.
    """
    start, end = dispatch_board.day_bounds(body.day, call.settings.business_time_zone)
    by = call.principal.subject

    async def work(ctx: Context) -> dict[str, Any]:
        cmd = commands.OptimiseDay(start, end, by, str(uuid.uuid4()), _now())
        return await handlers.optimise_day(cmd, ctx)

    payload = body.model_dump(mode="json")
    return await call.run(command="optimise_day", key=idempotency_key, payload=payload, work=work)


# -- board -------------------------------------------------------------------------------


@router.get("/board", summary="The dispatch board for one day")
async def board(
    _principal: Annotated[Principal, Depends(OfficeReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    settings: Settings,
    day: Annotated[date | None, Query(description="Local day (default: today)")] = None,
) -> dict[str, Any]:
    """The board: priority tiers (SLA risk first) and the unscheduled and failed lanes.

    Each technician's timeline comes with their live status and location.
    """
    now = _now()
    zone = settings.business_time_zone
    day = day or now.astimezone(ZoneInfo(zone)).date()
    start, end = dispatch_board.day_bounds(day, zone)
    async with runtime.engine.connect() as conn:
        rows = await queries.board_rows(conn, start, end)
        techs = await queries.technician_rows(conn)
        absences = await queries.absence_rows(conn)
    return dispatch_board.build(
        day, zone, rows, techs, now, timedelta(minutes=settings.at_risk_minutes), absences
    )
