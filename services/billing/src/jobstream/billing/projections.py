"""Billing as a projection: a completed job becomes an invoice, exactly once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db import queries
from jobstream.billing.db.tables import events
from jobstream.billing.domain.pricing import (
    CURRENCY,
    PAYMENT_TERMS_DAYS,
    price_completed_job,
    totals,
)
from jobstream.contracts.billing import InvoiceIssued
from jobstream.contracts.field import JobCompleted
from jobstream.eventstore.store import EventStore
from jobstream.ids import derived_id
from jobstream.messaging.envelope import Envelope

store = EventStore(events)
SERIES = "INV"


async def project_job_completed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Issue the invoice for a completed job (InvoiceIssued), unless it exists already."""
    completed = envelope.data
    assert isinstance(completed, JobCompleted)
    if await queries.invoice_exists(conn, completed.work_order_id):
        return  # a second completion event for the same job: never invoice twice
    lines = price_completed_job(completed.priority, completed.labour_minutes)
    sums = totals(lines)
    number = await queries.next_invoice_number(conn, SERIES)
    # Issued at the completion's time, so that a replay of the log rebuilds identical invoices.
    issued = InvoiceIssued(
        work_order_id=completed.work_order_id,
        invoice_id=derived_id("invoice", completed.work_order_id),
        invoice_number=f"{SERIES}-{number:06d}",
        customer_id=completed.customer_id,
        technician_id=completed.technician_id,
        currency=CURRENCY,
        lines=lines,
        net_total_minor=sums.net,
        tax_total_minor=sums.tax,
        gross_total_minor=sums.gross,
        issued_at=completed.completed_at,
        due_on=completed.completed_at.date() + timedelta(days=PAYMENT_TERMS_DAYS),
        payment_terms_days=PAYMENT_TERMS_DAYS,
    )
    stream = f"invoice-{issued.invoice_id}"
    await store.append(
        conn,
        stream,
        0,
        [issued],
        correlation_id=envelope.correlation_id,
        causation_id=envelope.id,
        event_ids=[derived_id(envelope.id, "InvoiceIssued")],
        occurred_at=completed.completed_at,
    )
    await queries.insert_invoice(conn, issued)
