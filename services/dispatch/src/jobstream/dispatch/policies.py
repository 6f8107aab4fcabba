"""Dispatch's reactions: schedule released work orders, follow field progress."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.dispatch import JobDispatched, JobPack, JobScheduled
from jobstream.contracts.field import JobCompleted
from jobstream.contracts.intake import WorkOrderReleased
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import events
from jobstream.dispatch.domain.matching import choose_technician
from jobstream.eventstore.store import EventStore
from jobstream.ids import derived_id
from jobstream.messaging.envelope import Envelope

store = EventStore(events)


async def on_work_order_released(conn: AsyncConnection, envelope: Envelope) -> None:
    """Pick a qualified technician and dispatch the job pack (JobScheduled, JobDispatched)."""
    released = envelope.data
    assert isinstance(released, WorkOrderReleased)
    details = released.details
    technicians = await queries.technicians_with_load(conn)
    # Decisions are made at the release's time, not the wall clock, so a replay of the
    # log decides the same way.
    assignment = choose_technician(
        technicians,
        site=details.site.location,
        skills=details.required_skills,
        certifications=details.required_certifications,
        duration_minutes=details.estimated_duration_minutes,
        not_before=released.released_at,
    )
    if assignment is None:
        await queries.insert_job(
            conn,
            work_order_id=released.work_order_id,
            status="unassigned",
            priority=details.priority.value,
            reasons=["no technician holds the required skills and certifications"],
            job_pack=details.model_dump(mode="json"),
            released_at=released.released_at,
        )
        return
    pack = JobPack(
        details=details, window_start=assignment.window_start, window_end=assignment.window_end
    )
    new_events: list[Event] = [
        JobScheduled(
            work_order_id=released.work_order_id,
            technician_id=assignment.technician_id,
            window_start=assignment.window_start,
            window_end=assignment.window_end,
            eta=assignment.window_start,
            travel_minutes=assignment.travel_minutes,
            reasons=assignment.reasons,
            scheduled_at=released.released_at,
        ),
        JobDispatched(
            work_order_id=released.work_order_id,
            technician_id=assignment.technician_id,
            job_pack=pack,
            dispatched_at=released.released_at,
        ),
    ]
    version = await store.current_version(conn, released.work_order_id)
    await store.append(
        conn,
        released.work_order_id,
        version,
        new_events,
        correlation_id=envelope.correlation_id,
        causation_id=envelope.id,
        event_ids=[derived_id(envelope.id, e.event_type) for e in new_events],
        occurred_at=released.released_at,
    )
    await queries.insert_job(
        conn,
        work_order_id=released.work_order_id,
        status="dispatched",
        priority=details.priority.value,
        technician_id=assignment.technician_id,
        window_start=assignment.window_start,
        window_end=assignment.window_end,
        travel_minutes=assignment.travel_minutes,
        reasons=list(assignment.reasons),
        job_pack=pack.model_dump(mode="json"),
        released_at=released.released_at,
    )


async def on_job_completed(conn: AsyncConnection, envelope: Envelope) -> None:
    """The technician is free again."""
    event = envelope.data
    assert isinstance(event, JobCompleted)
    await queries.set_job_status(conn, event.work_order_id, "completed")
