"""Read models projected from dispatch's own events, inline on append and on rebuild."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.dispatch import (
    JobDispatched,
    JobRescheduled,
    JobScheduled,
    JobUnscheduled,
    SchedulingFailed,
    TechnicianAbsenceCancelled,
    TechnicianAbsenceRecorded,
    TechnicianProfileUpdated,
    TechnicianRegistered,
)
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import absences, jobs, technicians
from jobstream.eventstore.store import EventStore, RecordedEvent
from jobstream.messaging.reactions import by_event_type


async def project_technician_registered(
    e: TechnicianRegistered, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """A new technician row."""
    await queries.upsert_technician(
        conn,
        technician_id=e.technician_id,
        name=e.profile.name,
        profile=e.profile.model_dump(mode="json"),
        active=e.profile.active,
        version=rec.stream_version,
        registered_at=e.registered_at,
        updated_at=e.registered_at,
    )


async def project_technician_profile_updated(
    e: TechnicianProfileUpdated, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """The technician row takes the new profile whole."""
    await conn.execute(
        technicians.update()
        .where(technicians.c.technician_id == e.technician_id)
        .values(
            name=e.profile.name,
            profile=e.profile.model_dump(mode="json"),
            active=e.profile.active,
            version=rec.stream_version,
            updated_at=e.updated_at,
        )
    )


async def _bump_version(conn: AsyncConnection, technician_id: str, rec: RecordedEvent) -> None:
    await conn.execute(
        technicians.update()
        .where(technicians.c.technician_id == technician_id)
        .values(version=rec.stream_version, updated_at=rec.occurred_at)
    )


async def project_technician_absence_recorded(
    e: TechnicianAbsenceRecorded, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """An absence row."""
    await queries.insert_absence(
        conn,
        absence_id=e.absence_id,
        technician_id=e.technician_id,
        starts_at=e.starts_at,
        ends_at=e.ends_at,
        reason=e.reason,
    )
    await _bump_version(conn, e.technician_id, rec)


async def project_technician_absence_cancelled(
    e: TechnicianAbsenceCancelled, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """The absence row goes."""
    await queries.delete_absence(conn, e.absence_id)
    await _bump_version(conn, e.technician_id, rec)


# A job off the plan has no technician, no window and no travel.
_OFF_PLAN: dict[str, object] = {
    "technician_id": None,
    "window_start": None,
    "window_end": None,
    "eta": None,
    "travel_minutes": None,
    "travel_km": None,
}


def _decision(e: JobScheduled | JobRescheduled) -> dict[str, object]:
    return {
        "state": "scheduled",
        "technician_id": e.technician_id,
        "window_start": e.window_start,
        "window_end": e.window_end,
        "eta": e.eta,
        "travel_minutes": e.travel_minutes,
        "travel_km": e.travel_km,
        "decided_by": e.decided_by,
        "forced": e.forced,
        "force_reason": e.force_reason,
        "reasons": list(e.reasons),
        "considered": [c.model_dump(mode="json") for c in e.considered],
        "failure_reason": None,
        "failure_detail": None,
    }


async def project_job_scheduled(e: JobScheduled, rec: RecordedEvent, conn: AsyncConnection) -> None:
    """The job has a technician and a time."""
    await queries.upsert_job(conn, e.work_order_id, **_decision(e), decided_at=e.scheduled_at)
    await queries.mark_first_scheduled(conn, e.work_order_id, e.scheduled_at)


async def project_job_rescheduled(
    e: JobRescheduled, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """The job moved."""
    await queries.upsert_job(conn, e.work_order_id, **_decision(e), decided_at=e.rescheduled_at)


async def project_job_unscheduled(
    e: JobUnscheduled, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """Back to the unscheduled lane."""
    await queries.upsert_job(
        conn,
        e.work_order_id,
        state="unscheduled",
        **_OFF_PLAN,
        decided_by=e.decided_by,
        forced=e.forced,
        force_reason=e.force_reason,
        reasons=[e.reason, *e.reasons],
        considered=[c.model_dump(mode="json") for c in e.considered],
        failure_reason=None,
        failure_detail=None,
        decided_at=e.unscheduled_at,
    )


async def project_scheduling_failed(
    e: SchedulingFailed, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """Into the failed lane, with the reason."""
    await queries.upsert_job(
        conn,
        e.work_order_id,
        state="failed",
        **_OFF_PLAN,
        decided_by="engine",
        forced=False,
        force_reason=None,
        reasons=[e.detail],
        considered=[c.model_dump(mode="json") for c in e.considered],
        failure_reason=e.reason.value,
        failure_detail=e.detail,
        decided_at=e.failed_at,
    )


async def project_job_dispatched(
    e: JobDispatched, rec: RecordedEvent, conn: AsyncConnection
) -> None:
    """Which device holds the job pack."""
    await queries.update_job(
        conn, e.work_order_id, dispatched_to=e.technician_id, dispatched_at=e.dispatched_at
    )


# By event type, from each projection's annotated event class (no hand-typed keys).
PROJECTIONS = by_event_type(
    project_technician_registered,
    project_technician_profile_updated,
    project_technician_absence_recorded,
    project_technician_absence_cancelled,
    project_job_scheduled,
    project_job_rescheduled,
    project_job_unscheduled,
    project_scheduling_failed,
    project_job_dispatched,
)


async def project(conn: AsyncConnection, recorded: list[RecordedEvent]) -> None:
    """Apply freshly appended (or replayed) events to the read models."""
    for rec in recorded:
        handler = PROJECTIONS.get(rec.data.event_type)
        if handler is not None:
            await handler(rec.data, rec, conn)


async def rebuild(conn: AsyncConnection, store: EventStore, batch: int = 500) -> int:
    """Empty the read models and replay every dispatch event into them; returns the count."""
    for table in (jobs, absences, technicians):
        await conn.execute(delete(table))
    count, position = 0, 0
    while True:
        recorded = await queries.recorded_events_after(conn, store, position, batch)
        if not recorded:
            return count
        await project(conn, recorded)
        count += len(recorded)
        position = recorded[-1].position
