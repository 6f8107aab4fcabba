"""Events owned by billing, on `workorders.billing`."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Contract, Event, UtcDatetime, registry
from jobstream.contracts.common import Identifier
from jobstream.contracts.money import CurrencyCode


class InvoiceLine(Contract):
    """One priced line; amounts in minor units of the invoice's currency."""

    description: str
    quantity_milli: Annotated[int, Field(description="Quantity × 1000 (hours, units)")]
    unit_price_minor: int
    net_minor: int
    tax_rate_basis_points: Annotated[int, Field(ge=0, le=10_000, examples=[2000])]
    tax_minor: int


@registry.register
class InvoiceIssuedV1(Event):
    """An invoice was issued for a completed job."""

    event_type: ClassVar[str] = "InvoiceIssued"
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str] = topics.BILLING

    work_order_id: Identifier
    invoice_id: Identifier
    invoice_number: Annotated[str, Field(min_length=1)]
    customer_id: Identifier
    currency: CurrencyCode
    lines: tuple[InvoiceLine, ...]
    net_total_minor: int
    tax_total_minor: int
    gross_total_minor: int
    issued_at: UtcDatetime
    due_on: date


InvoiceIssued = InvoiceIssuedV1
