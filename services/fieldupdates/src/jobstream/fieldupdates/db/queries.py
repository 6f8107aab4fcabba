"""Fieldupdates' queries on assignments."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.dispatch import JobDispatched
from jobstream.fieldupdates.db.tables import assignments


async def upsert_assignment(conn: AsyncConnection, event: JobDispatched) -> None:
    """A job pack arrived for a technician (a re-dispatch replaces the technician)."""
    values = {
        "work_order_id": event.work_order_id,
        "technician_id": event.technician_id,
        "status": "dispatched",
        "job_pack": event.job_pack.model_dump(mode="json"),
        "dispatched_at": event.dispatched_at,
        "version": 0,
    }
    await conn.execute(
        pg_insert(assignments)
        .values(**values)
        .on_conflict_do_update(
            index_elements=["work_order_id"],
            set_={k: v for k, v in values.items() if k != "version"},
        )
    )


async def get_assignment(
    conn: AsyncConnection, work_order_id: str, *, for_update: bool = False
) -> dict[str, Any] | None:
    """One assignment; locked for the rest of the transaction when ``for_update``."""
    query = select(assignments).where(assignments.c.work_order_id == work_order_id)
    if for_update:
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    return dict(row._mapping) if row else None


async def mark_completed(conn: AsyncConnection, work_order_id: str, at: datetime) -> None:
    """The job is done."""
    await conn.execute(
        update(assignments)
        .where(assignments.c.work_order_id == work_order_id)
        .values(status="completed", completed_at=at, version=assignments.c.version + 1)
    )


async def jobs_of(conn: AsyncConnection, technician_id: str | None) -> list[dict[str, Any]]:
    """A technician's jobs (or everyone's for the office), newest first."""
    query = select(assignments).order_by(assignments.c.dispatched_at.desc())
    if technician_id is not None:
        query = query.where(assignments.c.technician_id == technician_id)
    return [dict(r._mapping) for r in await conn.execute(query)]
