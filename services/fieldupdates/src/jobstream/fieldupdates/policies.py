"""Fieldupdates' reactions: job packs arrive on devices, and leave them again.

A pack leaves its device when the office reassigns, unschedules or cancels the job.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.dispatch import JobDispatched, JobRescheduled, JobUnscheduled
from jobstream.contracts.intake import WorkOrderCancelled
from jobstream.fieldupdates.db import queries
from jobstream.fieldupdates.domain.state import FieldStatus
from jobstream.messaging.reactions import Delivery


async def _hand_over(
    conn: AsyncConnection, row: dict[str, Any], technician_id: str, at: datetime
) -> dict[str, Any]:
    """Values that give the job to ``technician_id`` as a new visit, if it is a new holder.

    A completed job keeps its status (a late re-dispatch must not reopen it); otherwise
    the new technician starts the flow from the beginning, with every record kept.
    """
    await queries.add_job_technician(conn, row["work_order_id"], technician_id, at)
    if row["technician_id"] == technician_id:
        return {}
    values: dict[str, Any] = {"technician_id": technician_id, "withdrawn_reason": None}
    if row["status"] != FieldStatus.COMPLETED.value:
        values |= {
            "status": FieldStatus.DISPATCHED.value,
            "visit_started_version": row["stream_version"],
        }
    return values


async def on_job_dispatched(event: JobDispatched, delivery: Delivery[None]) -> None:
    """The job pack arrives on its technician's device (the latest pack wins)."""
    conn = delivery.conn
    row = await queries.lock_or_create_job(conn, event.work_order_id, event.dispatched_at)
    if row["dispatched_at"] is not None and event.dispatched_at < row["dispatched_at"]:
        return  # an older pack than the one the device holds
    values = await _hand_over(conn, row, event.technician_id, event.dispatched_at)
    pack = event.job_pack
    values |= {
        "job_pack": pack.model_dump(mode="json"),
        "site_id": pack.details.site.site_id,
        "window_start": pack.window_start,
        "window_end": pack.window_end,
        "dispatched_at": event.dispatched_at,
        "correlation_id": row["correlation_id"] or delivery.correlation_id,
        "updated_at": event.dispatched_at,
    }
    await queries.update_job(conn, event.work_order_id, **values)


async def on_job_rescheduled(event: JobRescheduled, delivery: Delivery[None]) -> None:
    """Another time (a return visit after an incomplete one), or another technician.

    Another technician: the old one loses access at once; the new pack follows as
    JobDispatched.
    """
    conn = delivery.conn
    row = await queries.lock_or_create_job(conn, event.work_order_id, event.rescheduled_at)
    values = await _hand_over(conn, row, event.technician_id, event.rescheduled_at)
    if not values and row["status"] == FieldStatus.INCOMPLETE.value:
        values = {
            "status": FieldStatus.DISPATCHED.value,
            "visit_started_version": row["stream_version"],
        }
    values |= {
        "window_start": event.window_start,
        "window_end": event.window_end,
        "updated_at": event.rescheduled_at,
    }
    await queries.update_job(conn, event.work_order_id, **values)


async def on_job_unscheduled(event: JobUnscheduled, delivery: Delivery[None]) -> None:
    """The job is off every device until it is scheduled again."""
    conn = delivery.conn
    row = await queries.lock_or_create_job(conn, event.work_order_id, event.unscheduled_at)
    if row["technician_id"] is not None:
        await queries.add_job_technician(
            conn, event.work_order_id, row["technician_id"], event.unscheduled_at
        )
    await queries.update_job(
        conn,
        event.work_order_id,
        technician_id=None,
        withdrawn_reason=f"unscheduled: {event.reason}",
        updated_at=event.unscheduled_at,
    )


async def on_work_order_cancelled(event: WorkOrderCancelled, delivery: Delivery[None]) -> None:
    """The job stays visible to its technician, marked cancelled.

    Every later action from a device is rejected and kept. Cancellation is final, whatever
    arrives after it.
    """
    conn = delivery.conn
    row = await queries.lock_or_create_job(conn, event.work_order_id, event.cancelled_at)
    if row["cancelled_at"] is not None:
        return
    await queries.update_job(
        conn,
        event.work_order_id,
        cancelled_at=event.cancelled_at,
        cancel_reason=event.reason,
        updated_at=event.cancelled_at,
    )


# What the service registers (by the event class in each signature).
REACTIONS = (
    on_job_dispatched,
    on_job_rescheduled,
    on_job_unscheduled,
    on_work_order_cancelled,
)
