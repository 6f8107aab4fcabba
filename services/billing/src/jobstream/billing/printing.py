"""Gathers what a printed invoice or credit note shows from the projection (docs/adr/0070).

Everything is read from the generation being served, and only through ids the documents
themselves record (the pricing basis names the details version and the trigger), so a
rebuilt generation prints the same document byte for byte.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.config import BillingSettings
from jobstream.billing.db import queries
from jobstream.billing.domain.printable import (
    DEFAULT_TIME_ZONE,
    JobContext,
    Payment,
    PrintedDocument,
    Seller,
    Standing,
    printed_credit_note,
    printed_invoice,
)
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued

# ReportLab keeps per-document font subsets in shared font objects: one render at a time.
_RENDERING = threading.Lock()


def seller_of(settings: BillingSettings) -> Seller:
    """The seller block from billing's settings."""
    return Seller(
        name=settings.seller_name,
        address=settings.seller_address,
        vat_number=settings.seller_vat_number,
        company_number=settings.seller_company_number,
        email=settings.seller_email,
        phone=settings.seller_phone,
        payment_instructions=settings.payment_instructions,
    )


async def job_context(conn: AsyncConnection, invoice: InvoiceIssued) -> JobContext:
    """Site, job type and when the work ended, from the facts the invoice was priced on."""
    basis = invoice.pricing_basis
    if basis is None:  # an invoice recorded before the basis was kept: what it says only
        return JobContext()
    details = await queries.details_by_event(conn, basis.details_event_id) or {}
    site = details.get("site") or {}
    outcome = await queries.outcome_until(conn, invoice.work_order_id, basis.trigger_event_id)
    ended_at = None
    reason = None
    if outcome is not None:
        kind, data = outcome
        ended_at = data.get("completed_at") if kind == "JobCompleted" else data.get("ended_at")
        reason = data.get("reason")
    return JobContext(
        site_address=site.get("address"),
        job_type=details.get("job_type"),
        time_zone=site.get("time_zone") or DEFAULT_TIME_ZONE,
        outcome=outcome[0] if outcome else None,
        outcome_at=datetime.fromisoformat(ended_at) if ended_at else None,
        incomplete_reason=reason,
    )


async def invoice_document(
    conn: AsyncConnection, found: dict[str, Any], seller: Seller
) -> PrintedDocument:
    """An invoice (as ``queries.get_invoice`` answers it) with where it stands now."""
    invoice = InvoiceIssued.model_validate(
        {k: v for k, v in found.items() if k in InvoiceIssued.model_fields}
    )
    payments = tuple(
        Payment(
            paid_at=datetime.fromisoformat(p["paid_at"]),
            amount_minor=int(p["amount_minor"]),
            reference=p.get("reference", ""),
        )
        for p in await queries.payments_of(conn, invoice.invoice_id)
    )
    credited_by = None
    if found.get("credit_note_id"):
        credited_by = await queries.credit_note_number(conn, found["credit_note_id"])
    replaces = None
    if invoice.replaces_invoice_id:
        earlier = await queries.invoice_document(conn, invoice.replaces_invoice_id)
        replaces = earlier["invoice_number"] if earlier else invoice.replaces_invoice_id
    standing = Standing(
        status=found["status"],
        paid_minor=int(found["paid_minor"]),
        outstanding_minor=int(found["outstanding_minor"]),
        payments=payments,
        credited_by=credited_by,
    )
    job = await job_context(conn, invoice)
    return printed_invoice(invoice, standing, job, seller, replaces=replaces)


async def credit_note_document(
    conn: AsyncConnection, document: dict[str, Any], seller: Seller
) -> PrintedDocument:
    """A credit note, with the invoice it credits (whose facts name the job)."""
    credit = CreditNoteIssued.model_validate(document)
    credited = await queries.invoice_document(conn, credit.invoice_id)
    invoice = InvoiceIssued.model_validate(credited) if credited else None
    replaced_by = None
    if credit.replaced_by_invoice_id:
        successor = await queries.invoice_document(conn, credit.replaced_by_invoice_id)
        replaced_by = successor["invoice_number"] if successor else None
    return printed_credit_note(
        credit,
        await job_context(conn, invoice) if invoice else JobContext(),
        seller,
        invoice_number=invoice.invoice_number if invoice else credit.invoice_id,
        invoice_issued_at=invoice.issued_at if invoice else None,
        replaced_by=replaced_by,
    )


async def pdf_of(document: PrintedDocument) -> bytes:
    """Render off the event loop (a long invoice takes tens of milliseconds)."""
    # Imported here, not at start-up: ReportLab and Pillow are for the processes that print.
    from jobstream.billing.pdf import render

    def locked() -> bytes:
        with _RENDERING:
            return render(document)

    return await asyncio.to_thread(locked)
