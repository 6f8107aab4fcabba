"""Dispatch's SQL: technicians, work orders, the schedule, site notes and history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, Text, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.dispatch.db.tables import (
    absences,
    events,
    jobs,
    locations,
    site_notes,
    site_visits,
    technicians,
    work_orders,
)
from jobstream.eventstore.store import EventStore, RecordedEvent

# One number for the whole plan: every decision that reads and changes the plan holds it.
PLAN_LOCK = 0x6A6F6273_64697370


async def lock_plan(conn: AsyncConnection) -> None:
    """Serialise planning decisions until this transaction ends.

    Two decisions reading the same free slot must not both take it (the event store only
    guards one stream).
    """
    await conn.execute(select(func.pg_advisory_xact_lock(PLAN_LOCK)))


async def recorded_events_after(
    conn: AsyncConnection, store: EventStore, position: int, limit: int
) -> list[RecordedEvent]:
    """Stored events after ``position`` in log order, upcast (for rebuilding read models)."""
    rows = await conn.execute(
        select(events).where(events.c.position > position).order_by(events.c.position).limit(limit)
    )
    return [
        RecordedEvent(
            position=r.position,
            event_id=str(r.event_id),
            stream_id=r.stream_id,
            stream_version=r.stream_version,
            data=store.reader.parse(r.event_type, r.schema_version, r.data),
            occurred_at=r.occurred_at,
            correlation_id=r.correlation_id,
            causation_id=r.causation_id,
        )
        for r in rows
    ]


# -- technicians -------------------------------------------------------------------------


async def upsert_technician(conn: AsyncConnection, **values: Any) -> None:
    """Insert or replace a technician row."""
    await conn.execute(
        pg_insert(technicians)
        .values(**values)
        .on_conflict_do_update(index_elements=["technician_id"], set_=values)
    )


async def insert_absence(conn: AsyncConnection, **values: Any) -> None:
    """Record an absence (idempotent)."""
    await conn.execute(pg_insert(absences).values(**values).on_conflict_do_nothing())


async def delete_absence(conn: AsyncConnection, absence_id: str) -> None:
    """Forget a cancelled absence."""
    await conn.execute(delete(absences).where(absences.c.absence_id == absence_id))


async def set_location(
    conn: AsyncConnection, technician_id: str, lat: float, lon: float, at: datetime
) -> None:
    """Keep the newest known location of a technician."""
    stmt = pg_insert(locations).values(technician_id=technician_id, lat=lat, lon=lon, located_at=at)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["technician_id"],
            set_={"lat": lat, "lon": lon, "located_at": at},
            where=locations.c.located_at <= at,
        )
    )


async def technician_rows(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every technician with their location, by id."""
    rows = await conn.execute(
        select(technicians, locations.c.lat, locations.c.lon, locations.c.located_at)
        .outerjoin(locations, locations.c.technician_id == technicians.c.technician_id)
        .order_by(technicians.c.technician_id)
    )
    return [dict(r._mapping) for r in rows]


async def technician_inputs(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every technician with their location, the profile as its JSON text (see plan_inputs)."""
    columns = [c for c in technicians.c if c.name != "profile"]
    rows = await conn.execute(
        select(
            *columns,
            cast(technicians.c.profile, Text).label("profile"),
            locations.c.lat,
            locations.c.lon,
            locations.c.located_at,
        )
        .outerjoin(locations, locations.c.technician_id == technicians.c.technician_id)
        .order_by(technicians.c.technician_id)
    )
    return [dict(r._mapping) for r in rows]


async def technician_row(conn: AsyncConnection, technician_id: str) -> dict[str, Any] | None:
    """One technician with their absences."""
    row = (
        await conn.execute(select(technicians).where(technicians.c.technician_id == technician_id))
    ).first()
    if row is None:
        return None
    out = dict(row._mapping)
    out["absences"] = [
        dict(r._mapping)
        for r in await conn.execute(
            select(absences)
            .where(absences.c.technician_id == technician_id)
            .order_by(absences.c.starts_at)
        )
    ]
    return out


async def absence_rows(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every absence in force."""
    rows = await conn.execute(select(absences).order_by(absences.c.starts_at))
    return [dict(r._mapping) for r in rows]


# -- work orders (inputs) ----------------------------------------------------------------


async def insert_work_order(conn: AsyncConnection, **values: Any) -> bool:
    """Record a released work order; False when it was known already."""
    result = await conn.execute(
        pg_insert(work_orders)
        .values(**values)
        .on_conflict_do_nothing()
        .returning(work_orders.c.work_order_id)
    )
    return result.first() is not None


async def update_work_order(conn: AsyncConnection, work_order_id: str, **values: Any) -> None:
    """Change a work order's input row."""
    await conn.execute(
        update(work_orders).where(work_orders.c.work_order_id == work_order_id).values(**values)
    )


async def work_order(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """One work order's inputs."""
    row = (
        await conn.execute(select(work_orders).where(work_orders.c.work_order_id == work_order_id))
    ).first()
    return dict(row._mapping) if row else None


async def open_work_orders(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Work orders still to be done (released, not cancelled, not finished on site)."""
    rows = await conn.execute(
        select(work_orders)
        .where(work_orders.c.status == "open")
        .order_by(work_orders.c.work_order_id)
    )
    return [dict(r._mapping) for r in rows]


async def open_work_order_inputs(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Open work orders as ``open_work_orders``, but the details as their JSON text.

    The text is what the plan's parse cache is keyed by (scheduling.py): an unchanged work
    order is neither decoded nor validated again.
    """
    columns = [c for c in work_orders.c if c.name != "details"]
    rows = await conn.execute(
        select(*columns, cast(work_orders.c.details, Text).label("details"))
        .where(work_orders.c.status == "open")
        .order_by(work_orders.c.work_order_id)
    )
    return [dict(r._mapping) for r in rows]


# -- the schedule (projection of dispatch's own events) ----------------------------------


async def upsert_job(conn: AsyncConnection, work_order_id: str, **values: Any) -> None:
    """Insert or change a job's schedule row."""
    await conn.execute(
        pg_insert(jobs)
        .values(work_order_id=work_order_id, **values)
        .on_conflict_do_update(index_elements=["work_order_id"], set_=values)
    )


async def mark_first_scheduled(conn: AsyncConnection, work_order_id: str, at: datetime) -> None:
    """Remember when the job was first scheduled (only the first time)."""
    await conn.execute(
        update(jobs)
        .where(jobs.c.work_order_id == work_order_id, jobs.c.first_scheduled_at.is_(None))
        .values(first_scheduled_at=at)
    )


async def update_job(conn: AsyncConnection, work_order_id: str, **values: Any) -> None:
    """Change some columns of a job's schedule row."""
    await conn.execute(update(jobs).where(jobs.c.work_order_id == work_order_id).values(**values))


async def job_rows(conn: AsyncConnection, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Schedule rows (all, or of ``ids``)."""
    query = select(jobs).order_by(jobs.c.work_order_id)
    if ids is not None:
        query = query.where(jobs.c.work_order_id.in_(ids))
    return [dict(r._mapping) for r in await conn.execute(query)]


async def plan_rows(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Open work orders' schedule rows, the columns a decision reads (not its reasons).

    The reasons and the technicians considered are JSON a decision never needs, and
    decoding them for every open job was the largest part of loading the plan.
    """
    query = (
        select(
            jobs.c.work_order_id,
            jobs.c.state,
            jobs.c.technician_id,
            jobs.c.window_start,
            jobs.c.window_end,
            jobs.c.travel_minutes,
            jobs.c.decided_by,
            jobs.c.forced,
            jobs.c.failure_reason,
        )
        .select_from(jobs.join(work_orders, work_orders.c.work_order_id == jobs.c.work_order_id))
        .where(work_orders.c.status == "open")
        .order_by(jobs.c.work_order_id)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


# What the office's views show of a work order, beside its schedule row (if it has one).
_WORK_ORDER_SEEN = (
    work_orders.c.work_order_id,
    work_orders.c.priority,
    work_orders.c.status,
    work_orders.c.field_status,
    work_orders.c.details,
)
_WITH_SCHEDULE = work_orders.outerjoin(jobs, jobs.c.work_order_id == work_orders.c.work_order_id)


async def job_view(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """One job as the office sees it: schedule row joined with its inputs."""
    row = (
        await conn.execute(
            select(*_WORK_ORDER_SEEN, jobs)
            .select_from(_WITH_SCHEDULE)
            .where(work_orders.c.work_order_id == work_order_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def board_rows(conn: AsyncConnection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Open work orders and those scheduled within [start, end), with their schedule rows."""
    rows = await conn.execute(
        select(
            *_WORK_ORDER_SEEN,
            jobs.c.state,
            jobs.c.technician_id,
            jobs.c.window_start,
            jobs.c.window_end,
            jobs.c.eta,
            jobs.c.travel_minutes,
            jobs.c.travel_km,
            jobs.c.forced,
            jobs.c.failure_reason,
            jobs.c.failure_detail,
            jobs.c.reasons,
        )
        .select_from(_WITH_SCHEDULE)
        .where(
            (work_orders.c.status == "open")
            | ((jobs.c.window_start < end) & (jobs.c.window_end > start))
        )
        .order_by(work_orders.c.work_order_id)
    )
    return [dict(r._mapping) for r in rows]


# -- site notes and history --------------------------------------------------------------


async def insert_site_note(conn: AsyncConnection, **values: Any) -> None:
    """Keep a carried-forward note (idempotent by note id)."""
    await conn.execute(pg_insert(site_notes).values(**values).on_conflict_do_nothing())


async def insert_site_visit(conn: AsyncConnection, **values: Any) -> None:
    """Keep one finished visit of a site (idempotent by event id)."""
    await conn.execute(pg_insert(site_visits).values(**values).on_conflict_do_nothing())


async def notes_for_site(
    conn: AsyncConnection, site_id: str, exclude_work_order: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Notes left at the site on earlier visits, newest first."""
    newest = (site_notes.c.written_at.desc(), site_notes.c.note_id)
    return await _earlier_at_site(conn, site_notes, site_id, exclude_work_order, newest, limit)


async def history_for_site(
    conn: AsyncConnection, site_id: str, exclude_work_order: str, limit: int = 20
) -> list[dict[str, Any]]:
    """Earlier finished visits at the site, newest first."""
    newest = (site_visits.c.completed_at.desc(), site_visits.c.event_id)
    return await _earlier_at_site(conn, site_visits, site_id, exclude_work_order, newest, limit)


async def _earlier_at_site(
    conn: AsyncConnection,
    table: Table,
    site_id: str,
    exclude_work_order: str,
    order: tuple[ColumnElement[Any], ...],
    limit: int,
) -> list[dict[str, Any]]:
    """Rows of ``table`` at the site from other work orders, in ``order``, at most ``limit``."""
    rows = await conn.execute(
        select(table)
        .where(table.c.site_id == site_id, table.c.work_order_id != exclude_work_order)
        .order_by(*order)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


async def site_technicians(conn: AsyncConnection) -> dict[str, frozenset[str]]:
    """Which technicians have worked at each site (for continuity)."""
    rows = await conn.execute(
        select(site_visits.c.site_id, site_visits.c.technician_id)
        .where(site_visits.c.technician_id.is_not(None))
        .distinct()
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r.site_id, set()).add(r.technician_id)
    return {k: frozenset(v) for k, v in out.items()}
