"""Fieldupdates' SQL: jobs, the device action ledger and the office's query tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.fieldupdates.db.tables import (
    attachments,
    device_actions,
    job_technicians,
    jobs,
    parts_requests,
    rejected_actions,
    site_notes,
    technician_locations,
)

OPEN_STATUSES = ("dispatched", "acknowledged", "en_route", "on_site", "in_progress", "on_hold")


async def lock_job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """The job's row, locked until the transaction ends.

    Commands on one job queue here, so a job's stream is never appended to by two
    transactions at once.
    """
    row = (
        await conn.execute(
            select(jobs).where(jobs.c.work_order_id == work_order_id).with_for_update()
        )
    ).first()
    return dict(row._mapping) if row else None


async def get_job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """The job's row, unlocked."""
    row = (await conn.execute(select(jobs).where(jobs.c.work_order_id == work_order_id))).first()
    return dict(row._mapping) if row else None


async def lock_or_create_job(
    conn: AsyncConnection, work_order_id: str, now: datetime
) -> dict[str, Any]:
    """The job's row (an empty one if dispatch or intake has not spoken yet), locked."""
    await conn.execute(
        pg_insert(jobs)
        .values(
            work_order_id=work_order_id,
            status="dispatched",
            visit_started_version=0,
            stream_version=0,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    row = await lock_job(conn, work_order_id)
    assert row is not None
    return row


async def update_job(conn: AsyncConnection, work_order_id: str, **values: Any) -> None:
    """Change a job's row."""
    await conn.execute(update(jobs).where(jobs.c.work_order_id == work_order_id).values(**values))


async def add_job_technician(
    conn: AsyncConnection, work_order_id: str, technician_id: str, at: datetime
) -> None:
    """Remember that ``technician_id`` held the job."""
    await conn.execute(
        pg_insert(job_technicians)
        .values(work_order_id=work_order_id, technician_id=technician_id, assigned_at=at)
        .on_conflict_do_nothing()
    )


async def technicians_of(conn: AsyncConnection, work_order_id: str) -> frozenset[str]:
    """Everyone who ever held the job."""
    rows = await conn.scalars(
        select(job_technicians.c.technician_id).where(
            job_technicians.c.work_order_id == work_order_id
        )
    )
    return frozenset(rows)


async def seen_actions(
    conn: AsyncConnection, technician_id: str, action_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Ledger rows of actions already received from this technician, by action id."""
    if not action_ids:
        return {}
    rows = await conn.execute(
        select(device_actions).where(
            device_actions.c.technician_id == technician_id,
            device_actions.c.action_id.in_(list(action_ids)),
        )
    )
    return {r.action_id: dict(r._mapping) for r in rows}


async def record_actions(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Add actions to the ledger (the primary key refuses a second copy)."""
    if rows:
        await conn.execute(device_actions.insert(), rows)


async def insert_rows(conn: AsyncConnection, table_name: str, rows: list[dict[str, Any]]) -> None:
    """Insert query-table rows, ignoring ones already there (a projection may run twice)."""
    table = {
        "parts_requests": parts_requests,
        "rejected_actions": rejected_actions,
        "site_notes": site_notes,
        "attachments": attachments,
    }[table_name]
    if rows:
        await conn.execute(pg_insert(table).on_conflict_do_nothing(), rows)


async def get_attachment(conn: AsyncConnection, attachment_id: str) -> dict[str, Any] | None:
    """An attachment's metadata."""
    row = (
        await conn.execute(select(attachments).where(attachments.c.attachment_id == attachment_id))
    ).first()
    return dict(row._mapping) if row else None


async def jobs_of_technician(
    conn: AsyncConnection, technician_id: str, day_start: datetime, day_end: datetime
) -> list[dict[str, Any]]:
    """The technician's jobs for a day: those whose window touches it, and older open ones.

    Overdue work from before stays on the device until it is closed.
    """
    query = (
        select(jobs)
        .where(
            jobs.c.technician_id == technician_id,
            jobs.c.job_pack.is_not(None),
            or_(
                (jobs.c.window_start < day_end) & (jobs.c.window_end > day_start),
                (jobs.c.window_start < day_start) & jobs.c.status.in_(OPEN_STATUSES),
            ),
        )
        .order_by(jobs.c.window_start, jobs.c.work_order_id)
    )
    return [dict(r._mapping) for r in await conn.execute(query)]


async def list_jobs(
    conn: AsyncConnection, *, technician_id: str | None, status: str | None, limit: int
) -> list[dict[str, Any]]:
    """Jobs for the office, newest dispatch first."""
    query = select(jobs).order_by(jobs.c.updated_at.desc()).limit(limit)
    if technician_id is not None:
        query = query.where(jobs.c.technician_id == technician_id)
    if status is not None:
        query = query.where(jobs.c.status == status)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def notes_for_site(
    conn: AsyncConnection, site_id: str, other_than: str
) -> list[dict[str, Any]]:
    """Notes carried forward at a site from other jobs, oldest first."""
    rows = await conn.execute(
        select(site_notes)
        .where(site_notes.c.site_id == site_id, site_notes.c.work_order_id != other_than)
        .order_by(site_notes.c.written_at)
    )
    return [dict(r._mapping) for r in rows]


async def list_parts_requests(
    conn: AsyncConnection, work_order_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Parts requests, newest first."""
    query = select(parts_requests).order_by(parts_requests.c.received_at.desc()).limit(limit)
    if work_order_id is not None:
        query = query.where(parts_requests.c.work_order_id == work_order_id)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def list_rejected(
    conn: AsyncConnection, work_order_id: str | None, technician_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Rejected device actions with their kept data, newest first."""
    query = select(rejected_actions).order_by(rejected_actions.c.received_at.desc()).limit(limit)
    if work_order_id is not None:
        query = query.where(rejected_actions.c.work_order_id == work_order_id)
    if technician_id is not None:
        query = query.where(rejected_actions.c.technician_id == technician_id)
    return [dict(r._mapping) for r in await conn.execute(query)]


async def resolve_rejected(
    conn: AsyncConnection,
    work_order_id: str,
    action_id: str,
    resolution: str,
    reason: str,
    by: str,
    at: datetime,
) -> None:
    """Note what the office made of a kept device action."""
    await conn.execute(
        update(rejected_actions)
        .where(
            rejected_actions.c.work_order_id == work_order_id,
            rejected_actions.c.action_id == action_id,
        )
        .values(resolution=resolution, resolution_reason=reason, resolved_by=by, resolved_at=at)
    )


async def lock_technician_pings(conn: AsyncConnection, technician_id: str) -> None:
    """Serialise one technician's pings until the transaction ends (even the first)."""
    await conn.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(f"location:{technician_id}", 0)))
    )


async def lock_location(conn: AsyncConnection, technician_id: str) -> dict[str, Any] | None:
    """The technician's last kept ping, locked (pings of one technician queue here)."""
    row = (
        await conn.execute(
            select(technician_locations)
            .where(technician_locations.c.technician_id == technician_id)
            .with_for_update()
        )
    ).first()
    return dict(row._mapping) if row else None


async def save_location(conn: AsyncConnection, values: dict[str, Any]) -> None:
    """Store the last kept ping."""
    await conn.execute(
        pg_insert(technician_locations)
        .values(**values)
        .on_conflict_do_update(index_elements=["technician_id"], set_=values)
    )


async def count_dropped_ping(conn: AsyncConnection, technician_id: str) -> None:
    """One more ping answered but not kept."""
    await conn.execute(
        update(technician_locations)
        .where(technician_locations.c.technician_id == technician_id)
        .values(dropped=technician_locations.c.dropped + 1)
    )
