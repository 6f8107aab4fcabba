"""Intake's read and write queries on its query tables."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.intake import RequestLogged
from jobstream.intake.db.tables import work_orders


async def insert_work_order(
    conn: AsyncConnection, logged: RequestLogged, job_type: str, status: str, version: int
) -> None:
    """Add a freshly logged work order to the list."""
    await conn.execute(
        work_orders.insert().values(
            work_order_id=logged.work_order_id,
            customer_id=logged.customer_id,
            site_id=logged.site.site_id,
            channel=logged.channel.value,
            job_type=job_type,
            description=logged.description,
            priority=logged.priority.value,
            status=status,
            logged_at=logged.logged_at,
            respond_by=logged.respond_by,
            resolve_by=logged.resolve_by,
            version=version,
        )
    )


async def mark_completed(conn: AsyncConnection, work_order_id: str, at: datetime) -> None:
    """Record that the field reported the job complete."""
    await conn.execute(
        update(work_orders)
        .where(work_orders.c.work_order_id == work_order_id)
        .values(status="completed", completed_at=at)
    )


async def get_work_order(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """One work order row, or None."""
    row = (
        await conn.execute(select(work_orders).where(work_orders.c.work_order_id == work_order_id))
    ).first()
    return dict(row._mapping) if row else None


async def list_work_orders(
    conn: AsyncConnection, *, customer_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest work orders, optionally for one customer."""
    query = select(work_orders).order_by(work_orders.c.logged_at.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(work_orders.c.customer_id == customer_id)
    return [dict(r._mapping) for r in await conn.execute(query)]
