"""Planning decisions, the I/O around the pure ``domain.decision``: load, record.

Every decision runs inside one transaction that holds the plan lock: ``load`` reads
technicians, absences, open work orders and the schedule and hands them to
``domain.decision.planned``; the caller changes the plan; ``record`` appends the events
``domain.decision.events_for`` derives for each changed job (ids derived from the causing
event), then projects them. "Now" is the causing event's time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import Event
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import CarriedNote, JobPack, SiteVisit
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.db import queries
from jobstream.dispatch.db.tables import events
from jobstream.dispatch.domain.decision import (
    Cause,
    Decision,
    changes,
    events_for,
    legs,
    not_before,
    planned,
)
from jobstream.dispatch.domain.plan import Visit, to_datetime
from jobstream.dispatch.projections import project
from jobstream.eventstore.store import EventStore
from jobstream.ids import derived_id

store = EventStore(events)


async def load(conn: AsyncConnection, settings: DispatchSettings, now: datetime) -> Decision:
    """Lock the plan and load it as it stands at ``now``."""
    await queries.lock_plan(conn)
    work_orders = {r["work_order_id"]: r for r in await queries.open_work_orders(conn)}
    return planned(
        settings=settings,
        now=now,
        technicians=list(await queries.technician_rows(conn)),
        absences=list(await queries.absence_rows(conn)),
        work_orders=work_orders,
        schedule={r["work_order_id"]: r for r in await queries.job_rows(conn, list(work_orders))},
        site_technicians=await queries.site_technicians(conn),
    )


async def record(conn: AsyncConnection, decision: Decision, cause: Cause) -> list[Event]:
    """Append the events of every job ``decision`` changed, derived from ``cause``."""
    into = legs(decision)
    appended: list[Event] = []
    for change in changes(decision):
        wo = change.work_order_id
        row = decision.work_orders[wo]
        # One read of the job's stream head: its version (to append) and its last time.
        version, last_at = await _stream_head(conn, wo)
        at = not_before(cause.at, last_at)
        pack = None
        if change.needs_pack and change.new is not None:
            details = WorkOrderDetails.model_validate(row["details"])
            pack = await _job_pack(conn, wo, details, change.new)
        out = events_for(decision, change, cause, at, pack, into)
        if out:
            await _append(conn, wo, version, row.get("correlation_id"), cause, at, out)
            appended.extend(out)
    return appended


async def _job_pack(
    conn: AsyncConnection, work_order_id: str, details: WorkOrderDetails, visit: Visit
) -> JobPack:
    site = details.site.site_id
    notes = await queries.notes_for_site(conn, site, work_order_id)
    history = await queries.history_for_site(conn, site, work_order_id)
    return JobPack(
        details=details,
        window_start=to_datetime(visit.start),
        window_end=to_datetime(visit.end),
        notes_carried_forward=tuple(
            CarriedNote(
                note_id=n["note_id"],
                work_order_id=n["work_order_id"],
                text=n["text"],
                written_by=n["written_by"],
                written_at=n["written_at"],
            )
            for n in notes
        ),
        site_history=tuple(
            SiteVisit(
                work_order_id=h["work_order_id"],
                job_type=h["job_type"],
                technician_id=h["technician_id"],
                completed_at=h["completed_at"],
                outcome=h["outcome"],
                summary=h["summary"],
            )
            for h in history
        ),
    )


async def _stream_head(conn: AsyncConnection, wo: str) -> tuple[int, datetime | None]:
    """The job's stream version and its last event's time (0 and None when empty)."""
    row = (
        await conn.execute(
            select(
                func.coalesce(func.max(events.c.stream_version), 0),
                func.max(events.c.occurred_at),
            ).where(events.c.stream_id == wo)
        )
    ).one()
    return int(row[0]), row[1]


async def _append(
    conn: AsyncConnection,
    wo: str,
    version: int,
    correlation_id: str | None,
    cause: Cause,
    at: datetime,
    out: list[Event],
) -> None:
    recorded = await store.append(
        conn,
        wo,
        version,
        out,
        correlation_id=correlation_id or cause.event_id,
        causation_id=cause.event_id,
        event_ids=[derived_id(cause.event_id, wo, e.event_type) for e in out],
        occurred_at=at,
    )
    await project(conn, recorded)
