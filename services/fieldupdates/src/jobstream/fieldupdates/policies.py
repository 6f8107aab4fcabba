"""Fieldupdates' reactions: job packs arrive on the technician's device."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.dispatch import JobDispatched
from jobstream.fieldupdates.db import queries
from jobstream.messaging.envelope import Envelope


async def on_job_dispatched(conn: AsyncConnection, envelope: Envelope) -> None:
    """Make the job visible to (only) its technician."""
    event = envelope.data
    assert isinstance(event, JobDispatched)
    await queries.upsert_assignment(conn, event)
