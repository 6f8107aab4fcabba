"""Reporting's queries: timeline and status."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.reporting.db.tables import job_status, timeline
from jobstream.reporting.domain.timeline import causal_order


async def add_to_timeline(conn: AsyncConnection, **values: Any) -> None:
    """One event on its work order's timeline."""
    await conn.execute(pg_insert(timeline).values(**values).on_conflict_do_nothing())


async def advance_status(
    conn: AsyncConnection, work_order_id: str, status: str, rank: int, event_type: str, at: datetime
) -> None:
    """Move the job's status forward only: topics are not ordered with each other."""
    values = {
        "work_order_id": work_order_id,
        "status": status,
        "rank": rank,
        "last_event_type": event_type,
        "updated_at": at,
    }
    stmt = pg_insert(job_status).values(**values)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["work_order_id"],
            set_={k: stmt.excluded[k] for k in ("status", "rank", "last_event_type", "updated_at")},
            where=job_status.c.rank < stmt.excluded.rank,
        )
    )


async def timeline_of(conn: AsyncConnection, subject: str) -> list[dict[str, Any]]:
    """A work order's events in causal order: each after its cause, otherwise by time."""
    rows = await conn.execute(select(timeline).where(timeline.c.subject == subject))
    return [dict(e) for e in causal_order([r._mapping for r in rows])]


async def status_of(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """Where the job is, across every service."""
    row = (
        await conn.execute(select(job_status).where(job_status.c.work_order_id == work_order_id))
    ).first()
    return dict(row._mapping) if row else None


async def counts(conn: AsyncConnection) -> dict[str, dict[str, int]]:
    """Jobs by status and events by type."""
    by_status = await conn.execute(
        select(job_status.c.status, func.count()).group_by(job_status.c.status)
    )
    by_type = await conn.execute(
        select(timeline.c.event_type, func.count()).group_by(timeline.c.event_type)
    )
    return {
        "jobs_by_status": {s: n for s, n in by_status.tuples()},
        "events_by_type": {t: n for t, n in by_type.tuples()},
    }
