"""Billing's queries: gapless numbering and invoices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.billing.db.tables import invoice_series, invoices
from jobstream.contracts.billing import InvoiceIssued


async def next_invoice_number(conn: AsyncConnection, series: str) -> int:
    """The next number of ``series``; gapless because it commits or rolls back with the
    invoice (the row lock serialises concurrent issuers)."""
    result = await conn.execute(
        pg_insert(invoice_series)
        .values(series=series, last_number=1)
        .on_conflict_do_update(
            index_elements=["series"], set_={"last_number": invoice_series.c.last_number + 1}
        )
        .returning(invoice_series.c.last_number)
    )
    return int(result.scalar_one())


async def invoice_exists(conn: AsyncConnection, work_order_id: str) -> bool:
    """Whether this job was invoiced already."""
    found = await conn.scalar(
        select(invoices.c.invoice_id).where(invoices.c.work_order_id == work_order_id)
    )
    return found is not None


async def insert_invoice(conn: AsyncConnection, issued: InvoiceIssued) -> None:
    """Store the issued invoice as its document plus searchable columns."""
    await conn.execute(
        invoices.insert().values(
            invoice_id=issued.invoice_id,
            invoice_number=issued.invoice_number,
            work_order_id=issued.work_order_id,
            customer_id=issued.customer_id,
            currency=issued.currency,
            net_total_minor=issued.net_total_minor,
            tax_total_minor=issued.tax_total_minor,
            gross_total_minor=issued.gross_total_minor,
            issued_at=issued.issued_at,
            due_on=issued.due_on,
            document=issued.model_dump(mode="json"),
        )
    )


async def list_invoices(
    conn: AsyncConnection, *, customer_id: str | None, work_order_id: str | None, limit: int
) -> list[dict[str, Any]]:
    """Invoice documents, newest first, filtered."""
    query = select(invoices.c.document).order_by(invoices.c.issued_at.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(invoices.c.customer_id == customer_id)
    if work_order_id is not None:
        query = query.where(invoices.c.work_order_id == work_order_id)
    return [row.document for row in await conn.execute(query)]
