"""The technician's device: today's jobs, the status flow, records, offline sync, location."""

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response, status
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field, create_model

from jobstream.auth import Principal, Role
from jobstream.contracts.base import UtcDatetime
from jobstream.contracts.common import GeoPoint, Identifier
from jobstream.errors import InvalidInputError
from jobstream.fieldupdates import handlers
from jobstream.fieldupdates.api.deps import (
    JobReader,
    Technician,
    handler_context,
    technician_of,
    visible,
    visible_job,
)
from jobstream.fieldupdates.api.views import job_summary, job_view, pack_with_site_notes
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain import commands as c
from jobstream.ids import derived_id
from jobstream.service import Runtime, get_runtime

router = APIRouter(tags=["technician"])
Context = Annotated[handlers.Context, Depends(handler_context)]

# The ledger keeps the device's counter in a bigint column.
MAX_DEVICE_SEQ = 2**63 - 1


async def _view(
    ctx: handlers.Context,
    principal: Principal,
    work_order_id: str,
    decided: handlers.Loaded | None = None,
) -> dict[str, Any]:
    """The job as the caller may see it, with the notes carried forward at its site.

    ``decided`` is the job as a command just left it: the view is built from it, and only
    the site's notes are read.
    """
    async with ctx.engine.connect() as conn:
        if decided is None:
            loaded = await visible_job(conn, ctx, principal, work_order_id)
        else:
            loaded = visible(principal, decided)
        row = loaded.row
        carried = (
            await queries.notes_for_site(conn, row["site_id"], work_order_id)
            if row["site_id"]
            else []
        )
    return jsonable_encoder(job_view(row, loaded.assignment, loaded.job, carried))


@router.get("/jobs", summary="Today's jobs with their job packs (technician); all jobs (office)")
async def list_jobs(
    principal: Annotated[Principal, Depends(JobReader)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    day: Annotated[date | None, Query(description="Local day; default today")] = None,
    tz: Annotated[str, Query(description="IANA time zone of the day")] = "Europe/London",
    technician_id: Annotated[str | None, Query(description="Office only")] = None,
    status_: Annotated[str | None, Query(alias="status", description="Office only")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    """A technician gets the jobs of the day (and any still open from before), packs whole."""
    async with runtime.engine.connect() as conn:
        if principal.role is not Role.TECHNICIAN:
            rows = await queries.list_jobs(
                conn, technician_id=technician_id, status=status_, limit=limit
            )
            return jsonable_encoder([job_summary(r) for r in rows])
        try:
            zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise InvalidInputError("unknown time zone", field="tz", location="query") from exc
        local_day = day or datetime.now(zone).date()
        start = datetime.combine(local_day, time(0), zone)
        rows = await queries.jobs_of_technician(
            conn, technician_of(principal), start, start + timedelta(days=1)
        )
        out = []
        for row in rows:
            summary = job_summary(row)
            assignment = handlers.assignment_from(row, frozenset())
            carried = (
                await queries.notes_for_site(conn, row["site_id"], row["work_order_id"])
                if row["site_id"]
                else []
            )
            summary["job_pack"] = pack_with_site_notes(assignment, carried)
            out.append(summary)
    return jsonable_encoder(out)


@router.get("/jobs/{work_order_id}", summary="A job's pack and whole field record")
async def get_job(
    work_order_id: str,
    principal: Annotated[Principal, Depends(JobReader)],
    ctx: Context,
) -> dict[str, Any]:
    """Another technician's job answers 403."""
    return await _view(ctx, principal, work_order_id)


class ActionMeta(BaseModel):
    """Optional device bookkeeping on every action endpoint."""

    action_id: Identifier | None = Field(
        default=None, description="The device's id for the action (default: from Idempotency-Key)"
    )
    device_time: UtcDatetime | None = Field(default=None, description="Default: now")
    device_seq: Annotated[int, Field(ge=0, le=MAX_DEVICE_SEQ)] = 0


META_FIELDS = frozenset(ActionMeta.model_fields)


def _action_response(
    result: handlers.ActionResult, view: dict[str, Any], response: Response
) -> dict[str, Any]:
    """The answer to one action from its own endpoint: the outcome and the job after it.

    A refused action answers 409 naming the allowed ones (``detail.detail`` is the reason,
    as the device app reads it), and a conflict says whether it was kept.
    """
    if result.forbidden:
        if result.reason == handlers.NO_SUCH_JOB:
            raise handlers.JobNotFoundError
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail=result.reason)
    if result.status == "rejected":
        detail: dict[str, Any] = {"detail": result.reason, "allowed_actions": list(result.allowed)}
        if result.conflict:
            detail["kept"] = result.kept
        raise HTTPException(status.HTTP_409_CONFLICT, detail=detail)
    if result.status == "duplicate":
        response.headers["Idempotent-Replayed"] = "true"
    return {"outcome": jsonable_encoder(result.__dict__), "job": view}


def _add_action_route(command: type[c.Command], path: str, summary: str) -> None:
    body_model = create_model(f"{command.__name__}Request", __base__=(command, ActionMeta))

    async def endpoint(
        work_order_id: str,
        body: ActionMeta,
        response: Response,
        principal: Annotated[Principal, Depends(Technician)],
        ctx: Context,
        idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
    ) -> dict[str, Any]:
        technician_id = technician_of(principal)
        received_at = datetime.now(UTC)
        action_id = body.action_id or (
            derived_id("idempotency", technician_id, idempotency_key)
            if idempotency_key
            else str(uuid.uuid4())
        )
        action = c.IncomingAction(
            action_id=action_id,
            work_order_id=work_order_id,
            action_type=command.action_type,
            device_time=body.device_time or received_at,
            device_seq=body.device_seq,
            payload=body.model_dump(mode="json", exclude=set(META_FIELDS), exclude_none=True),
        )
        cmd = c.ApplyDeviceActions(technician_id, (action,), received_at, keep_refusals=False)
        applied = await handlers.apply_device_actions(cmd, ctx)
        [result] = applied.results
        if result.forbidden or result.status == "rejected":
            return _action_response(result, {}, response)
        # Built from the job as the action left it; a duplicate decided nothing, so it reads.
        decided = applied.jobs.get(work_order_id)
        return _action_response(
            result, await _view(ctx, principal, work_order_id, decided), response
        )

    # The body is the command plus ActionMeta; FastAPI reads the annotation at registration.
    endpoint.__annotations__["body"] = body_model
    endpoint.__doc__ = f"{summary}. A refused action answers 409 naming the allowed ones."
    router.add_api_route(
        f"/jobs/{{work_order_id}}/{path}",
        endpoint,
        methods=["POST"],
        summary=summary,
        name=command.action_type,
        responses={403: {"description": "Not your job"}, 409: {"description": "Refused"}},
    )


for _command, _path, _summary in (
    (c.Acknowledge, "acknowledge", "Acknowledge the job (JobAcknowledged)"),
    (c.StartTravel, "travel", "Set off, with an ETA (TravelStarted)"),
    (c.ReviseEta, "eta", "On the way, a new ETA for the customer (EtaRevised)"),
    (c.Arrive, "arrive", "Arrive on site (TechnicianArrived)"),
    (c.StartWork, "start", "Start work (JobStarted)"),
    (c.PutOnHold, "hold", "Put the job on hold, with a reason (JobPutOnHold)"),
    (c.Resume, "resume", "Resume after a hold (JobResumed)"),
    (c.Complete, "complete", "Complete the job (JobCompleted)"),
    (c.CouldNotComplete, "incomplete", "Could not complete (JobIncomplete)"),
    (c.LogTime, "time", "Log travel or labour time (TimeLogged)"),
    (c.UseMaterial, "materials", "Record a material used (MaterialUsed)"),
    (c.RequestParts, "parts-requests", "Request parts (PartsRequested)"),
    (c.AddNote, "notes", "Add a note (NoteAdded)"),
    (c.AnswerChecklistItem, "checklist", "Answer a job sheet item (ChecklistItemAnswered)"),
    (c.CaptureSignature, "signature", "Record the customer's signature (SignatureCaptured)"),
):
    _add_action_route(_command, _path, _summary)


class SyncActionIn(BaseModel):
    """One action recorded on the device, perhaps offline."""

    model_config = ConfigDict(extra="forbid")

    action_id: Identifier = Field(description="Client-generated, unique per technician (a UUID)")
    work_order_id: Identifier
    type: str = Field(min_length=1, max_length=60, examples=["log_time"])
    device_time: UtcDatetime
    device_seq: int = Field(
        default=0, ge=0, le=MAX_DEVICE_SEQ, description="The device's own counter: breaks ties"
    )
    payload: dict[str, Any] = Field(default_factory=dict)


class SyncBatch(BaseModel):
    """Actions in any order; posting the same batch again is harmless."""

    model_config = ConfigDict(extra="forbid")

    actions: list[SyncActionIn] = Field(min_length=1)


# The OpenAPI description, kept apart from the docstring as published (line break included).
SYNC_DESCRIPTION = (
    "Per action: applied, duplicate, or rejected with a reason. Rejected actions on a job\n"
    "the technician holds or held are kept (DeviceActionRejected) for the office."
)


@router.post(
    "/sync",
    summary="Post actions recorded offline; each is applied exactly once",
    description=SYNC_DESCRIPTION,
)
async def sync(
    batch: SyncBatch,
    principal: Annotated[Principal, Depends(Technician)],
    ctx: Context,
) -> dict[str, Any]:
    """Apply a batch of offline actions, answering what became of each."""
    if len(batch.actions) > ctx.settings.max_sync_actions:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            detail=f"at most {ctx.settings.max_sync_actions} actions per batch",
        )
    received_at = datetime.now(UTC)
    incoming = tuple(
        c.IncomingAction(
            action_id=a.action_id,
            work_order_id=a.work_order_id,
            action_type=a.type,
            device_time=a.device_time,
            device_seq=a.device_seq,
            payload=a.payload,
        )
        for a in batch.actions
    )
    cmd = c.ApplyDeviceActions(technician_of(principal), incoming, received_at)
    results = (await handlers.apply_device_actions(cmd, ctx)).results
    counts = {
        k: sum(1 for r in results if r.status == k) for k in ("applied", "duplicate", "rejected")
    }
    return {
        "received_at": received_at,
        **counts,
        "results": [
            {
                "action_id": r.action_id,
                "work_order_id": r.work_order_id,
                "status": r.status,
                "reason": r.reason,
                "original_status": r.original_status,
                "kept": r.kept,
            }
            for r in results
        ],
    }


class LocationPing(BaseModel):
    """Where the device is."""

    model_config = ConfigDict(extra="forbid")

    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0)
    device_time: UtcDatetime


@router.post("/location", status_code=202, summary="A location ping (rate-limited)")
async def location(
    ping: LocationPing,
    principal: Annotated[Principal, Depends(Technician)],
    ctx: Context,
) -> dict[str, Any]:
    """Kept (TechnicianLocated) unless one was kept within the interval; always 202."""
    cmd = c.RecordLocation(
        technician_id=technician_of(principal),
        location=GeoPoint(lat=ping.lat, lon=ping.lon),
        accuracy_m=ping.accuracy_m,
        device_time=ping.device_time,
        received_at=datetime.now(UTC),
    )
    kept = await handlers.record_location(cmd, ctx)
    return {"kept": kept, "min_interval_s": ctx.settings.location_min_interval_s}
