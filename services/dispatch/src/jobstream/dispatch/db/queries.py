"""Dispatch's queries on technicians and jobs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.common import GeoPoint
from jobstream.contracts.dispatch import TechnicianRegistered
from jobstream.dispatch.db.tables import jobs, technicians
from jobstream.dispatch.domain.matching import Technician

OPEN_STATUSES = ("scheduled", "dispatched")


async def upsert_technician(conn: AsyncConnection, event: TechnicianRegistered) -> None:
    """Add or refresh a technician from their registration."""
    values = {
        "technician_id": event.technician_id,
        "name": event.profile.name,
        "skills": [s.name for s in event.profile.skills],
        "certifications": [c.name for c in event.profile.certifications],
        "home_lat": event.profile.home_base.lat,
        "home_lon": event.profile.home_base.lon,
        "registered_at": event.registered_at,
    }
    await conn.execute(
        pg_insert(technicians)
        .values(**values)
        .on_conflict_do_update(index_elements=["technician_id"], set_=values)
    )


async def technicians_with_load(conn: AsyncConnection) -> list[Technician]:
    """Every technician with their count of open jobs."""
    open_jobs = (
        select(jobs.c.technician_id, func.count().label("n"))
        .where(jobs.c.status.in_(OPEN_STATUSES))
        .group_by(jobs.c.technician_id)
        .subquery()
    )
    rows = await conn.execute(
        select(technicians, func.coalesce(open_jobs.c.n, 0).label("open_jobs")).outerjoin(
            open_jobs, open_jobs.c.technician_id == technicians.c.technician_id
        )
    )
    return [
        Technician(
            technician_id=r.technician_id,
            skills=frozenset(r.skills),
            certifications=frozenset(r.certifications),
            home_base=GeoPoint(lat=r.home_lat, lon=r.home_lon),
            open_jobs=r.open_jobs,
        )
        for r in rows
    ]


async def insert_job(conn: AsyncConnection, **values: Any) -> None:
    """Record a released job (scheduled or not)."""
    await conn.execute(pg_insert(jobs).values(**values).on_conflict_do_nothing())


async def set_job_status(conn: AsyncConnection, work_order_id: str, status: str) -> None:
    """Move a job along (e.g. completed, from field events)."""
    await conn.execute(
        update(jobs).where(jobs.c.work_order_id == work_order_id).values(status=status)
    )


async def list_technicians(conn: AsyncConnection) -> list[dict[str, Any]]:
    """All technicians, by id."""
    rows = await conn.execute(select(technicians).order_by(technicians.c.technician_id))
    return [dict(r._mapping) for r in rows]


async def get_job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """One job as dispatch sees it."""
    row = (await conn.execute(select(jobs).where(jobs.c.work_order_id == work_order_id))).first()
    return dict(row._mapping) if row else None


async def list_jobs(conn: AsyncConnection, limit: int) -> list[dict[str, Any]]:
    """Jobs, most recently released first (the skeleton's dispatch board)."""
    rows = await conn.execute(select(jobs).order_by(jobs.c.released_at.desc()).limit(limit))
    return [dict(r._mapping) for r in rows]
