"""Billing's reactions: record each fact a price needs, then answer the job if it is due.

One consumer per generation (``worker.consumer_spec``) reads intake, technicians, field
and billing's own topic. Each reaction projects its event (``projections``) and, when its
generation decides, asks ``handlers.evaluate`` to answer the job's latest trigger: a new
outcome or correction, or inputs a waiting job lacked (details, a technician's profile).
"""

from __future__ import annotations

from dataclasses import dataclass

from jobstream.billing import projections
from jobstream.billing.db import queries
from jobstream.billing.domain.history import FIELD_TYPES
from jobstream.billing.handlers import evaluate
from jobstream.contracts.base import Event, registry
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, InvoicePaid
from jobstream.contracts.dispatch import TechnicianProfileUpdated, TechnicianRegistered
from jobstream.contracts.intake import WorkOrderAmended, WorkOrderCancelled, WorkOrderReleased
from jobstream.messaging.reactions import Delivery, takes


@dataclass(frozen=True)
class BillingRun:
    """Which generation the reactions write into, and whether it decides.

    A rebuild runs them with ``decide`` off, gathering facts and documents and answering
    nothing.
    """

    generation: int
    decide: bool = True


# Every field event billing keeps in a job's log (the ones a price or its trigger reads).
FIELD_EVENTS = tuple(
    registry.contract(event_type, registry.current_version(event_type))
    for event_type in sorted(FIELD_TYPES)
)


async def _answer(delivery: Delivery[BillingRun], work_order_id: str) -> None:
    run = delivery.context
    if run.decide:
        await evaluate(delivery.conn, work_order_id, run.generation, delivery.correlation_id)


async def on_work_order_details(
    event: WorkOrderReleased | WorkOrderAmended, delivery: Delivery[BillingRun]
) -> None:
    """New details; a job that was waiting for them is answered now."""
    await projections.project_details(delivery.conn, event, delivery.event_id)
    if delivery.context.decide:
        job = await queries.get_job(delivery.conn, event.work_order_id)
        if job is not None and job["status"] == "awaiting_inputs":
            await _answer(delivery, event.work_order_id)


async def on_work_order_cancelled(
    event: WorkOrderCancelled, delivery: Delivery[BillingRun]
) -> None:
    """Cancelled: kept with the job (a cancellation before any outcome charges nothing)."""
    await projections.project_cancellation(delivery.conn, event)


async def on_technician_profile(
    event: TechnicianRegistered | TechnicianProfileUpdated, delivery: Delivery[BillingRun]
) -> None:
    """A technician's profile; the jobs that were waiting for it are answered now."""
    await projections.project_technician(delivery.conn, event, delivery.event_id)
    if delivery.context.decide:
        for waiting in await queries.jobs_waiting_for(delivery.conn, event.technician_id):
            await _answer(delivery, waiting)


@takes(*FIELD_EVENTS)
async def on_field_event(event: Event, delivery: Delivery[BillingRun]) -> None:
    """A field event in the job's log; when it is the job's new trigger, answer it."""
    work_order_id = delivery.envelope.subject
    if await projections.project_field_event(
        delivery.conn, work_order_id, event, delivery.event_id
    ):
        await _answer(delivery, work_order_id)


async def on_billing_document(
    event: InvoiceIssued | CreditNoteIssued | InvoicePaid, delivery: Delivery[BillingRun]
) -> None:
    """Billing's own documents coming back: every generation's read model holds them."""
    await projections.apply_document(delivery.conn, event, delivery.event_id)


# What the service registers (by the event class in each signature).
REACTIONS = (
    on_work_order_details,
    on_work_order_cancelled,
    on_technician_profile,
    on_field_event,
    on_billing_document,
)
