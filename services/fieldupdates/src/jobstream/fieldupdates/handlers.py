"""Command handlers: lock the job, fold its stream, decide, append — one transaction per job."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from jobstream.contracts.base import Event
from jobstream.contracts.common import GeoPoint
from jobstream.contracts.dispatch import JobPack
from jobstream.contracts.field import (
    DeviceActionRejected,
    TechnicianLocated,
)
from jobstream.eventstore.store import EventStore
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.commands import (
    SYNCABLE,
    AddAttachment,
    ApplyRejected,
    Command,
    DeviceAction,
)
from jobstream.fieldupdates.domain.decide import (
    Conflict,
    Refused,
    decide,
    decide_apply_rejected,
    kept_action,
    reject,
)
from jobstream.fieldupdates.domain.state import Assignment, FieldJob, evolve, fold
from jobstream.fieldupdates.metrics import DEVICE_ACTIONS, LOCATION_PINGS
from jobstream.fieldupdates.projections import project
from jobstream.ids import derived_id

ACTIONS: dict[str, type[Command]] = {**SYNCABLE, AddAttachment.action_type: AddAttachment}
Outcome = Literal["applied", "duplicate", "rejected"]


@dataclass(frozen=True)
class IncomingAction:
    """A device action as received, its payload not yet checked."""

    action_id: str
    work_order_id: str
    action_type: str
    device_time: datetime
    device_seq: int
    payload: dict[str, Any]

    @property
    def digest(self) -> str:
        """What makes a re-sent action the same action."""
        content = {
            "type": self.action_type,
            "work_order_id": self.work_order_id,
            "payload": self.payload,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def order(self) -> tuple[datetime, int, str]:
        """Device order: device time, then the device's sequence number, then the id."""
        return (self.device_time, self.device_seq, self.action_id)


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


class JobNotFound(LookupError):
    """No such job in fieldupdates."""


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
    conn: AsyncConnection, store: EventStore, row: dict[str, Any]
) -> tuple[Assignment, FieldJob, int]:
    """(assignment, job, stream version) of a job's row."""
    wo = row["work_order_id"]
    recorded = await store.load(conn, wo)
    job = fold(wo, ((r.stream_version, r.data) for r in recorded), row["visit_started_version"])
    version = recorded[-1].stream_version if recorded else 0
    return assignment_from(row, await queries.technicians_of(conn, wo)), job, version


async def apply_device_actions(
    engine: AsyncEngine,
    store: EventStore,
    technician_id: str,
    actions: list[IncomingAction],
    received_at: datetime,
    *,
    keep_refusals: bool = True,
) -> list[ActionResult]:
    """Apply a technician's actions, each exactly once, in device order per job.

    Each job is one transaction. A refused or conflicting action is kept as
    DeviceActionRejected (a refusal only when ``keep_refusals``: the interactive API
    answers 409 instead) and later actions of the job are still decided, each against the
    state the earlier ones left (docs/adr/0031-offline-sync.md).
    """
    by_job: dict[str, list[IncomingAction]] = {}
    for action in actions:
        by_job.setdefault(action.work_order_id, []).append(action)
    results: dict[tuple[str, int], ActionResult] = {}
    # Jobs in a fixed order: two devices of one technician syncing at once queue on each
    # job's row lock in the same order.
    for wo in sorted(by_job):
        async with engine.begin() as conn:
            outcomes = await _apply_to_job(
                conn, store, technician_id, wo, by_job[wo], received_at, keep_refusals
            )
        for action, result in zip(by_job[wo], outcomes, strict=True):
            results[(wo, id(action))] = result
            DEVICE_ACTIONS.labels(result.status, str(result.kept).lower()).inc()
    return [results[(a.work_order_id, id(a))] for a in actions]


async def _apply_to_job(
    conn: AsyncConnection,
    store: EventStore,
    technician_id: str,
    wo: str,
    actions: list[IncomingAction],
    received_at: datetime,
    keep_refusals: bool,
) -> list[ActionResult]:
    row = await queries.lock_job(conn, wo)
    if row is None:
        return [
            ActionResult(a.action_id, wo, "rejected", "no such job", forbidden=True)
            for a in actions
        ]
    assignment = assignment_from(row, await queries.technicians_of(conn, wo))
    if not assignment.ever_had(technician_id):
        return [
            ActionResult(
                a.action_id, wo, "rejected", "this job is not assigned to you", forbidden=True
            )
            for a in actions
        ]
    seen = await queries.seen_actions(conn, technician_id, [a.action_id for a in actions])
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

    if not fresh:
        _report_duplicates(actions, results, seen)
        return [results[id(a)] for a in actions]
    # Only now fold the stream: a batch of duplicates never needs it.
    _, job, version = await load(conn, store, row)
    new_events: list[Event] = []
    event_ids: list[str] = []
    ledger: list[dict[str, Any]] = []
    attachment_rows: list[dict[str, Any]] = []
    for action in sorted(fresh, key=lambda a: a.order):
        result, events = _decide_one(job, assignment, technician_id, action, received_at)
        if result.status == "rejected" and not result.conflict and not keep_refusals:
            events = []
        else:
            ledger.append(_ledger_row(technician_id, action, received_at, result))
        result.kept = any(isinstance(e, DeviceActionRejected) for e in events)
        for index, event in enumerate(events):
            job = evolve(job, event)
            result.event_ids.append(derived_id(technician_id, action.action_id, str(index)))
        new_events += events
        event_ids += result.event_ids
        if action.action_type == AddAttachment.action_type and events:
            attachment_rows.append(_attachment_row(wo, technician_id, action, received_at))
        results[id(action)] = result
        seen[action.action_id].update(outcome=result.status, reason=result.reason)

    _report_duplicates(actions, results, seen)

    if new_events:
        await store.append(
            conn,
            wo,
            version,
            new_events,
            event_ids=event_ids,
            correlation_id=row["correlation_id"],
            # ce_time is when it happened: on the device, perhaps offline, hours ago.
            occurred_at=[getattr(e, "device_time", None) or received_at for e in new_events],
        )
        await project(conn, wo, new_events, event_ids)
        await queries.update_job(
            conn,
            wo,
            status=job.status.value,
            stream_version=version + len(new_events),
            updated_at=received_at,
        )
    await queries.record_actions(conn, ledger)
    await queries.insert_rows(conn, "attachments", attachment_rows)
    return [results[id(a)] for a in actions]


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
    except Conflict as exc:
        return rejected(exc.reason, True)
    except Refused as exc:
        return rejected(exc.reason, False, exc.allowed)


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


async def office_command(
    engine: AsyncEngine,
    store: EventStore,
    work_order_id: str,
    decide_fn: Callable[[FieldJob, Assignment], list[Event]],
    now: datetime,
) -> None:
    """Apply an office command (reopen, correct a material, resolve a kept device action) to
    a job; Refused propagates."""
    async with engine.begin() as conn:
        row = await queries.lock_job(conn, work_order_id)
        if row is None:
            raise JobNotFound(work_order_id)
        assignment, job, version = await load(conn, store, row)
        new_events = decide_fn(job, assignment)
        ids = [str(uuid.uuid4()) for _ in new_events]
        await store.append(
            conn,
            work_order_id,
            version,
            new_events,
            event_ids=ids,
            correlation_id=row["correlation_id"],
        )
        for event in new_events:
            job = evolve(job, event)
        await project(conn, work_order_id, new_events, ids)
        await queries.update_job(
            conn,
            work_order_id,
            status=job.status.value,
            stream_version=version + len(new_events),
            updated_at=now,
        )


def applying(cmd: ApplyRejected) -> Callable[[FieldJob, Assignment], list[Event]]:
    """The decision of applying a kept action: its payload parsed as the device's command."""

    def decide_fn(job: FieldJob, assignment: Assignment) -> list[Event]:
        kept = kept_action(job, cmd.action_id)
        command_type = ACTIONS.get(kept.action_type)
        if command_type is None:
            raise Refused(f"unknown action type {kept.action_type}")
        try:
            command = command_type.model_validate(kept.payload)
        except ValidationError as exc:
            raise Refused(f"the kept payload is not a valid {kept.action_type}: {exc}") from exc
        return decide_apply_rejected(job, assignment, cmd, command)

    return decide_fn


async def record_location(
    engine: AsyncEngine,
    store: EventStore,
    technician_id: str,
    location: GeoPoint,
    accuracy_m: float | None,
    device_time: datetime,
    received_at: datetime,
    min_interval: timedelta,
) -> bool:
    """Publish a ping as TechnicianLocated unless one was kept less than ``min_interval``
    (device time) before it; returns whether it was kept."""
    async with engine.begin() as conn:
        # The first ping of a technician has no row to lock yet: serialise on the id.
        await queries.lock_technician_pings(conn, technician_id)
        last = await queries.lock_location(conn, technician_id)
        if last is not None and device_time < last["device_time"] + min_interval:
            await queries.count_dropped_ping(conn, technician_id)
            LOCATION_PINGS.labels("false").inc()
            return False
        version = last["stream_version"] if last else 0
        event = TechnicianLocated(
            technician_id=technician_id,
            location=location,
            accuracy_m=accuracy_m,
            device_time=device_time,
            received_at=received_at,
        )
        await store.append(
            conn, f"location-{technician_id}", version, [event], occurred_at=device_time
        )
        await queries.save_location(
            conn,
            {
                "technician_id": technician_id,
                "lat": location.lat,
                "lon": location.lon,
                "accuracy_m": accuracy_m,
                "device_time": device_time,
                "received_at": received_at,
                "stream_version": version + 1,
                "dropped": last["dropped"] if last else 0,
            },
        )
    LOCATION_PINGS.labels("true").inc()
    return True
