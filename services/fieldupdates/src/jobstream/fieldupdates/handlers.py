"""Command handlers: lock the job, fold its stream, decide, append — one transaction per job."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.commands import CommandHandlers
from jobstream.contracts.base import Event
from jobstream.contracts.dispatch import JobPack
from jobstream.contracts.field import (
    DeviceActionRejected,
    TechnicianLocated,
)
from jobstream.errors import NotFoundError
from jobstream.eventstore.store import EventStore
from jobstream.fieldupdates.config import FieldSettings
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.db.snapshots import JOB_SNAPSHOTS
from jobstream.fieldupdates.domain.commands import (
    SYNCABLE,
    AddAttachment,
    ApplyDeviceActions,
    ApplyRejected,
    Command,
    CorrectMaterial,
    DeviceAction,
    DiscardRejected,
    IncomingAction,
    RecordLocation,
    Reopen,
)
from jobstream.fieldupdates.domain.decide import (
    ActionRefusedError,
    JobTakenAwayError,
    decide,
    decide_apply_rejected,
    decide_correct_material,
    decide_discard_rejected,
    decide_reopen,
    kept_action,
    reject,
)
from jobstream.fieldupdates.domain.state import (
    Assignment,
    FieldJob,
    VisitFold,
    evolve,
    resume,
    step,
)
from jobstream.fieldupdates.metrics import DEVICE_ACTIONS, LOCATION_PINGS
from jobstream.fieldupdates.projections import project
from jobstream.ids import derived_id

ACTIONS: dict[str, type[Command]] = {**SYNCABLE, AddAttachment.action_type: AddAttachment}
Outcome = Literal["applied", "duplicate", "rejected"]
NO_SUCH_JOB = "no such job"


@dataclass(frozen=True)
class Context:
    """What a handler needs: the database, the job streams, the field's limits."""

    engine: AsyncEngine
    store: EventStore
    settings: FieldSettings


@dataclass
class ActionResult:
    """What became of one action."""

    action_id: str
    work_order_id: str
    status: Outcome
    reason: str | None = None
    # For a duplicate: what happened the first time.
    original_status: str | None = None
    conflict: bool = False
    kept: bool = False
    forbidden: bool = False
    allowed: tuple[str, ...] = ()
    event_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Loaded:
    """A job as a command finds it: its row, its assignment, its record, its version.

    ``snapshot_version`` is the version of its snapshot row as the load knew it (0: none).
    """

    row: dict[str, Any]
    assignment: Assignment
    job: FieldJob
    version: int
    snapshot_version: int = 0


@dataclass(frozen=True)
class Applied:
    """What became of a technician's actions, and the jobs as they left them.

    ``jobs`` holds, by work order, each job on which fresh actions were decided, as its
    transaction committed it: the answer to an action is built from it, not read again.
    """

    results: list[ActionResult]
    jobs: dict[str, Loaded]


@dataclass(frozen=True)
class Recorded:
    """Where a job stands after an office command."""

    work_order_id: str
    status: str
    version: int


class JobNotFoundError(NotFoundError):
    """No such job in fieldupdates."""

    def __init__(self) -> None:
        """Refuse with the one message every unknown job gets."""
        super().__init__(NO_SUCH_JOB)


def assignment_from(row: dict[str, Any], technicians: frozenset[str]) -> Assignment:
    """The office's view of a job, from its row."""
    pack = JobPack.model_validate(row["job_pack"]) if row["job_pack"] is not None else None
    current = row["technician_id"]
    return Assignment(
        work_order_id=row["work_order_id"],
        technician_id=current,
        pack=pack,
        cancelled=row["cancelled_at"] is not None,
        withdrawn_reason=row["withdrawn_reason"],
        former_technicians=technicians - {current} if current else technicians,
    )


async def load(
    conn: AsyncConnection,
    store: EventStore,
    row: dict[str, Any],
    assignment: Assignment | None = None,
) -> Loaded:
    """The job of a row, with its assignment (read unless given) and stream version.

    The job is its snapshot with any later events folded on, or its whole stream folded
    when it has none that fits the row's current visit (``domain.state.resume``).
    """
    wo = row["work_order_id"]
    visit = row["visit_started_version"]
    folded = await JOB_SNAPSHOTS.load(
        conn,
        store,
        wo,
        initial=VisitFold(FieldJob(wo), visit),
        evolve=lambda fold, recorded: step(fold, recorded.stream_version, recorded.data),
        resume=lambda snapshot: resume(snapshot.state, snapshot.version, visit),
    )
    if assignment is None:
        assignment = assignment_from(row, await queries.technicians_of(conn, wo))
    return Loaded(row, assignment, folded.state.job, folded.version, folded.snapshot_version)


async def apply_device_actions(cmd: ApplyDeviceActions, ctx: Context) -> Applied:
    """Apply a technician's actions, each exactly once, in device order per job.

    Each job is one transaction. A refused or conflicting action is kept as
    DeviceActionRejected (a refusal only when ``keep_refusals``: the interactive API
    answers 409 instead) and later actions of the job are still decided, each against the
    state the earlier ones left (docs/adr/0031-offline-sync.md).
    """
    by_job: dict[str, list[IncomingAction]] = {}
    for action in cmd.actions:
        by_job.setdefault(action.work_order_id, []).append(action)
    results: dict[tuple[str, int], ActionResult] = {}
    jobs: dict[str, Loaded] = {}
    # Jobs in a fixed order: two devices of one technician syncing at once queue on each
    # job's row lock in the same order.
    for wo in sorted(by_job):
        async with ctx.engine.begin() as conn:
            outcomes, after = await _apply_to_job(
                conn,
                ctx.store,
                cmd.technician_id,
                wo,
                by_job[wo],
                cmd.received_at,
                cmd.keep_refusals,
            )
        if after is not None:
            jobs[wo] = after
        for action, result in zip(by_job[wo], outcomes, strict=True):
            results[(wo, id(action))] = result
            DEVICE_ACTIONS.labels(result.status, str(result.kept).lower()).inc()
    return Applied([results[(a.work_order_id, id(a))] for a in cmd.actions], jobs)


async def _apply_to_job(
    conn: AsyncConnection,
    store: EventStore,
    technician_id: str,
    wo: str,
    actions: list[IncomingAction],
    received_at: datetime,
    keep_refusals: bool,
) -> tuple[list[ActionResult], Loaded | None]:
    """The results of one job's actions, decided and recorded in the caller's transaction.

    With them, the job as the fresh actions left it (None when there were none).
    """
    row = await queries.lock_job(conn, wo)
    if row is None:
        return _forbidden(wo, actions, NO_SUCH_JOB), None
    assignment = assignment_from(row, await queries.technicians_of(conn, wo))
    if not assignment.ever_had(technician_id):
        return _forbidden(wo, actions, "this job is not assigned to you"), None
    seen = await queries.seen_actions(conn, technician_id, [a.action_id for a in actions])
    results, fresh = _sort_out_repeats(wo, actions, seen)
    after = None
    if fresh:
        # Only now load the job: a batch of duplicates never needs it.
        loaded = await load(conn, store, row, assignment)
        decided = _decide_fresh(
            loaded, technician_id, fresh, received_at, keep_refusals=keep_refusals
        )
        results |= decided.results
        for action in fresh:
            result = decided.results[id(action)]
            seen[action.action_id].update(outcome=result.status, reason=result.reason)
        # ce_time is when it happened: on the device, perhaps offline, hours ago.
        occurred_at = [getattr(e, "device_time", None) or received_at for e in decided.events]
        after = await _append(
            conn, store, loaded, decided, updated_at=received_at, occurred_at=occurred_at
        )
        await queries.record_actions(conn, decided.ledger)
        await queries.insert_rows(conn, "attachments", decided.attachments)
    _report_duplicates(actions, results, seen)
    return [results[id(a)] for a in actions], after


def _forbidden(wo: str, actions: list[IncomingAction], reason: str) -> list[ActionResult]:
    """Every action of a job the technician may not act on, refused for ``reason``."""
    return [ActionResult(a.action_id, wo, "rejected", reason, forbidden=True) for a in actions]


def _sort_out_repeats(
    wo: str, actions: list[IncomingAction], seen: dict[str, dict[str, Any]]
) -> tuple[dict[int, ActionResult], list[IncomingAction]]:
    """The results of actions seen before (by ``id()``), and the fresh actions to decide.

    A fresh action is added to ``seen`` as pending, so that a second copy of it in the same
    batch is a duplicate of it.
    """
    results: dict[int, ActionResult] = {}
    fresh: list[IncomingAction] = []
    for action in actions:
        prior = seen.get(action.action_id)
        if prior is None:
            seen[action.action_id] = {
                "payload_sha256": action.digest,
                "outcome": "pending",
                "reason": None,
            }
            fresh.append(action)
        elif prior["payload_sha256"] != action.digest:
            results[id(action)] = ActionResult(
                action.action_id, wo, "rejected", "action_id was already used for another action"
            )
        else:
            results[id(action)] = ActionResult(action.action_id, wo, "duplicate")
    return results, fresh


@dataclass
class Decided:
    """What one job's fresh actions decided: their results, and what to write for them."""

    results: dict[int, ActionResult] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)


def _decide_fresh(
    loaded: Loaded,
    technician_id: str,
    fresh: list[IncomingAction],
    received_at: datetime,
    *,
    keep_refusals: bool,
) -> Decided:
    """Decide fresh actions in device order, each against the job the earlier ones left."""
    decided = Decided()
    job = loaded.job
    for action in sorted(fresh, key=lambda a: a.order):
        result, events = _decide_one(job, loaded.assignment, technician_id, action, received_at)
        if result.status == "rejected" and not result.conflict and not keep_refusals:
            events = []
        else:
            decided.ledger.append(_ledger_row(technician_id, action, received_at, result))
        result.kept = any(isinstance(e, DeviceActionRejected) for e in events)
        for index, event in enumerate(events):
            job = evolve(job, event)
            result.event_ids.append(derived_id(technician_id, action.action_id, str(index)))
        decided.events += events
        decided.event_ids += result.event_ids
        if action.action_type == AddAttachment.action_type and events:
            row = _attachment_row(action.work_order_id, technician_id, action, received_at)
            decided.attachments.append(row)
        decided.results[id(action)] = result
    return decided


async def _append(
    conn: AsyncConnection,
    store: EventStore,
    loaded: Loaded,
    decided: Decided,
    *,
    updated_at: datetime,
    occurred_at: list[datetime] | None = None,
) -> Loaded:
    """Append what was decided to the job's stream, its snapshot, read models and row.

    The job and its row as written, for the answer; no events, nothing written.
    """
    if not decided.events:
        return loaded
    folded = VisitFold(loaded.job, loaded.row["visit_started_version"])
    for offset, event in enumerate(decided.events, start=1):
        folded = step(folded, loaded.version + offset, event)
    job = folded.job
    wo = loaded.row["work_order_id"]
    version = loaded.version + len(decided.events)
    recorded = await store.append(
        conn,
        wo,
        loaded.version,
        decided.events,
        event_ids=decided.event_ids,
        correlation_id=loaded.row["correlation_id"],
        occurred_at=occurred_at,
    )
    snapshot_version = await JOB_SNAPSHOTS.save(
        conn, recorded[-1], folded, snapshot_version=loaded.snapshot_version
    )
    await project(conn, wo, decided.events, decided.event_ids)
    written = {"status": job.status.value, "stream_version": version, "updated_at": updated_at}
    await queries.update_job(conn, wo, **written)
    return Loaded(loaded.row | written, loaded.assignment, job, version, snapshot_version)


def _report_duplicates(
    actions: list[IncomingAction],
    results: dict[int, ActionResult],
    seen: dict[str, dict[str, Any]],
) -> None:
    """A duplicate reports what the first delivery did."""
    for action in actions:
        result = results[id(action)]
        if result.status == "duplicate":
            prior = seen[action.action_id]
            result.original_status = prior["outcome"]
            result.reason = prior["reason"]


def _decide_one(
    job: FieldJob,
    assignment: Assignment,
    technician_id: str,
    action: IncomingAction,
    received_at: datetime,
) -> tuple[ActionResult, list[Event]]:
    def rejected(
        reason: str, conflict: bool, allowed: tuple[str, ...] = ()
    ) -> tuple[ActionResult, list[Event]]:
        kept = reject(
            work_order_id=action.work_order_id,
            technician_id=technician_id,
            action_id=action.action_id,
            action_type=action.action_type,
            device_time=action.device_time,
            received_at=received_at,
            reason=reason,
            payload=action.payload,
        )
        result = ActionResult(
            action.action_id,
            action.work_order_id,
            "rejected",
            reason,
            conflict=conflict,
            allowed=allowed,
        )
        return result, [kept]

    command_type = ACTIONS.get(action.action_type)
    if command_type is None:
        return rejected(f"unknown action type {action.action_type}", False)
    try:
        command = command_type.model_validate(action.payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "payload"
        return rejected(f"invalid payload: {where}: {first['msg']}", False)
    device_action = DeviceAction(
        action_id=action.action_id,
        technician_id=technician_id,
        work_order_id=action.work_order_id,
        device_time=action.device_time,
        device_seq=action.device_seq,
        received_at=received_at,
        command=command,
    )
    try:
        return ActionResult(action.action_id, action.work_order_id, "applied"), decide(
            job, assignment, device_action
        )
    except JobTakenAwayError as exc:
        return rejected(exc.message, True)
    except ActionRefusedError as exc:
        return rejected(exc.message, False, exc.allowed)


def _ledger_row(
    technician_id: str, action: IncomingAction, received_at: datetime, result: ActionResult
) -> dict[str, Any]:
    return {
        "technician_id": technician_id,
        "action_id": action.action_id,
        "work_order_id": action.work_order_id,
        "action_type": action.action_type,
        "payload_sha256": action.digest,
        "device_time": action.device_time,
        "device_seq": action.device_seq,
        "received_at": received_at,
        "outcome": result.status,
        "reason": result.reason,
    }


def attachment_key(work_order_id: str, attachment_id: str) -> str:
    """Where an attachment's bytes live in the object store."""
    return f"attachments/{work_order_id}/{attachment_id}"


def _attachment_row(
    wo: str, technician_id: str, action: IncomingAction, received_at: datetime
) -> dict[str, Any]:
    p = action.payload
    return {
        "attachment_id": p["attachment_id"],
        "work_order_id": wo,
        "technician_id": technician_id,
        "kind": p["kind"],
        "content_type": p["content_type"],
        "size_bytes": p["size_bytes"],
        "sha256": p["sha256"],
        "object_key": attachment_key(wo, p["attachment_id"]),
        "caption": p.get("caption", ""),
        "uploaded_at": received_at,
    }


async def reopen(cmd: Reopen, ctx: Context) -> Recorded:
    """Reopen a completed job: back to in progress on its technician's device."""
    return await _office_command(
        ctx, cmd.work_order_id, cmd.at, lambda job, a: decide_reopen(job, a, cmd)
    )


async def correct_material(cmd: CorrectMaterial, ctx: Context) -> Recorded:
    """Correct a material entry's quantity (billing re-prices from the correction)."""
    return await _office_command(
        ctx, cmd.work_order_id, cmd.at, lambda job, a: decide_correct_material(job, a, cmd)
    )


async def apply_rejected(cmd: ApplyRejected, ctx: Context) -> Recorded:
    """Apply a kept device action to the job as it now stands."""
    return await _office_command(ctx, cmd.work_order_id, cmd.at, applying(cmd))


async def discard_rejected(cmd: DiscardRejected, ctx: Context) -> Recorded:
    """Discard a kept device action, with the office's reason."""
    return await _office_command(
        ctx, cmd.work_order_id, cmd.at, lambda job, _a: decide_discard_rejected(job, cmd)
    )


async def _office_command(
    ctx: Context,
    work_order_id: str,
    at: datetime,
    decide_fn: Callable[[FieldJob, Assignment], list[Event]],
) -> Recorded:
    """Decide an office command on the job and append its events, in one transaction.

    JobNotFoundError for an unknown job; the decider's ActionRefusedError propagates.
    """
    async with ctx.engine.begin() as conn:
        row = await queries.lock_job(conn, work_order_id)
        if row is None:
            raise JobNotFoundError
        loaded = await load(conn, ctx.store, row)
        events = decide_fn(loaded.job, loaded.assignment)
        decided = Decided(events=events, event_ids=[str(uuid.uuid4()) for _ in events])
        after = await _append(conn, ctx.store, loaded, decided, updated_at=at)
    return Recorded(work_order_id, after.job.status.value, after.version)


def applying(cmd: ApplyRejected) -> Callable[[FieldJob, Assignment], list[Event]]:
    """The decision of applying a kept action: its payload parsed as the device's command."""

    def decide_fn(job: FieldJob, assignment: Assignment) -> list[Event]:
        kept = kept_action(job, cmd.action_id)
        command_type = ACTIONS.get(kept.action_type)
        if command_type is None:
            raise ActionRefusedError(f"unknown action type {kept.action_type}")
        try:
            command = command_type.model_validate(kept.payload)
        except ValidationError as exc:
            raise ActionRefusedError(
                f"the kept payload is not a valid {kept.action_type}: {exc}"
            ) from exc
        return decide_apply_rejected(job, assignment, cmd, command)

    return decide_fn


async def record_location(cmd: RecordLocation, ctx: Context) -> bool:
    """Publish a ping as TechnicianLocated unless it comes too soon; whether it was kept.

    A ping less than the settings' minimum interval (device time) after the last kept one
    is counted and dropped.
    """
    min_interval = timedelta(seconds=ctx.settings.location_min_interval_s)
    technician_id = cmd.technician_id
    async with ctx.engine.begin() as conn:
        # The first ping of a technician has no row to lock yet: serialise on the id.
        await queries.lock_technician_pings(conn, technician_id)
        last = await queries.lock_location(conn, technician_id)
        if last is not None and cmd.device_time < last["device_time"] + min_interval:
            await queries.count_dropped_ping(conn, technician_id)
            LOCATION_PINGS.labels("false").inc()
            return False
        version = last["stream_version"] if last else 0
        event = TechnicianLocated(
            technician_id=technician_id,
            location=cmd.location,
            accuracy_m=cmd.accuracy_m,
            device_time=cmd.device_time,
            received_at=cmd.received_at,
        )
        await ctx.store.append(
            conn, f"location-{technician_id}", version, [event], occurred_at=cmd.device_time
        )
        await queries.save_location(
            conn,
            {
                "technician_id": technician_id,
                "lat": cmd.location.lat,
                "lon": cmd.location.lon,
                "accuracy_m": cmd.accuracy_m,
                "device_time": cmd.device_time,
                "received_at": cmd.received_at,
                "stream_version": version + 1,
                "dropped": last["dropped"] if last else 0,
            },
        )
    LOCATION_PINGS.labels("true").inc()
    return True


# Each command type's handler; ``HANDLERS.handle(cmd, ctx)`` runs the one for ``type(cmd)``.
HANDLERS = CommandHandlers(
    apply_device_actions,
    record_location,
    reopen,
    correct_material,
    apply_rejected,
    discard_rejected,
)
