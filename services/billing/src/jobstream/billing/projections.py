"""Billing's read model and facts, projected from the lifecycle topics and its own log.

The facts a price needs (work order details versions, technician profiles, the job's
field events in log order, and which trigger is the latest) and billing's documents as
they come back from Kafka (which is how a rebuild gets the numbers the live one assigned,
docs/adr/0043). Nothing here decides: ``handlers.evaluate`` does, called by the reactions
in ``policies``.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db import queries
from jobstream.billing.domain.history import OUTCOME_TYPES, PRICED_TYPES
from jobstream.contracts.base import Event
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, InvoicePaid
from jobstream.contracts.dispatch import TechnicianProfileUpdated, TechnicianRegistered
from jobstream.contracts.intake import WorkOrderAmended, WorkOrderCancelled, WorkOrderReleased


async def apply_document(conn: AsyncConnection, event: Event, event_id: str) -> None:
    """Put a billing document into the read model (idempotent by document id)."""
    match event:
        case InvoiceIssued():
            await queries.apply_invoice(conn, event)
            if event.pricing_basis is not None:
                # The trigger was answered (by this generation or the one before it).
                await queries.record_answered(
                    conn, event.work_order_id, event.pricing_basis.trigger_event_id
                )
        case CreditNoteIssued():
            await queries.apply_credit_note(conn, event)
        case InvoicePaid():
            await queries.apply_payment(conn, event_id, event)


async def project_details(
    conn: AsyncConnection, event: WorkOrderReleased | WorkOrderAmended, event_id: str
) -> None:
    """A version of the work order's details, in force from its time."""
    at = event.released_at if isinstance(event, WorkOrderReleased) else event.amended_at
    await queries.insert_details(
        conn,
        event_id=event_id,
        work_order_id=event.work_order_id,
        event_type=event.event_type,
        effective_at=at,
        details=event.details.model_dump(mode="json"),
    )


async def project_cancellation(conn: AsyncConnection, event: WorkOrderCancelled) -> None:
    """Cancelled before any outcome: nothing will be charged; after one, the status stays."""
    job = await queries.lock_job(conn, event.work_order_id)
    status = "cancelled" if job["trigger_event_id"] is None else job["status"]
    await queries.update_job(conn, event.work_order_id, cancelled=event.reason, status=status)


async def project_technician(
    conn: AsyncConnection, event: TechnicianRegistered | TechnicianProfileUpdated, event_id: str
) -> None:
    """A version of a technician's profile (their labour rate), in force from its time."""
    at = event.registered_at if isinstance(event, TechnicianRegistered) else event.updated_at
    await queries.insert_profile(
        conn,
        event_id=event_id,
        technician_id=event.technician_id,
        effective_at=at,
        profile=event.profile.model_dump(mode="json"),
    )


async def project_field_event(
    conn: AsyncConnection, work_order_id: str, event: Event, event_id: str
) -> bool:
    """Keep a field event in the job's log order; whether it is the job's new trigger.

    A trigger is an outcome, a reopening, or a priced correction after an outcome.
    """
    job = await queries.lock_job(conn, work_order_id)
    seq = await queries.append_field_fact(
        conn, work_order_id, event_id, event.event_type, event.model_dump(mode="json")
    )
    has_outcome = job["trigger_event_id"] is not None and job["status"] != "reopened"
    if not (
        event.event_type in OUTCOME_TYPES
        or event.event_type == "JobReopened"
        or (event.event_type in PRICED_TYPES and has_outcome)
    ):
        return False
    await queries.update_job(
        conn,
        work_order_id,
        trigger_event_id=event_id,
        trigger_event_type=event.event_type,
        trigger_seq=seq,
        status="reopened" if event.event_type == "JobReopened" else "pending",
    )
    return True
