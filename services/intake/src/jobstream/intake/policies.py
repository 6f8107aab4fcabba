"""Intake's reactions to other services' events."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.field import JobCompleted
from jobstream.intake.db import queries
from jobstream.messaging.envelope import Envelope


async def on_job_completed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Show the work order as completed in the office list."""
    event = envelope.data
    assert isinstance(event, JobCompleted)
    await queries.mark_completed(conn, event.work_order_id, event.completed_at)
