"""Reporting's projections: every event onto its job's timeline and status."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.base import EventRegistry
from jobstream.messaging.consumer import Handler
from jobstream.messaging.envelope import Envelope
from jobstream.reporting.db import queries

# Status each event type moves a work order to, with its rank in the lifecycle.
STATUS_BY_EVENT: dict[str, tuple[str, int]] = {
    "RequestLogged": ("logged", 10),
    "WorkOrderReleased": ("released", 20),
    "JobScheduled": ("scheduled", 30),
    "JobDispatched": ("dispatched", 40),
    "JobCompleted": ("completed", 60),
    "InvoiceIssued": ("invoiced", 70),
}


async def project_event(conn: AsyncConnection, envelope: Envelope) -> None:
    """Add the event to its subject's timeline and advance the job's status."""
    await queries.add_to_timeline(
        conn,
        event_id=envelope.id,
        subject=envelope.subject,
        event_type=envelope.type,
        source=envelope.source,
        occurred_at=envelope.time,
        sequence=envelope.sequence,
        causation_id=envelope.causation_id,
        data=envelope.data.model_dump(mode="json"),
    )
    if envelope.type in STATUS_BY_EVENT:
        status, rank = STATUS_BY_EVENT[envelope.type]
        work_order_id = str(getattr(envelope.data, "work_order_id", envelope.subject))
        await queries.advance_status(
            conn, work_order_id, status, rank, envelope.type, envelope.time
        )


def handlers_for(reader: EventRegistry) -> dict[str, Handler]:
    """The projection handles every event type there is."""
    return {cls.event_type: project_event for cls in reader.all_contracts()}
