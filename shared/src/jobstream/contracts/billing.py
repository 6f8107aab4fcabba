"""Events owned by billing, on `workorders.billing`; the subject is the work order id.

Amounts are integer minor units of the document's currency. An issued invoice is never
edited: a correction is a credit note for it plus a new invoice.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import Field

from jobstream.contracts import topics
from jobstream.contracts.base import Contract, Event, UtcDatetime, registry
from jobstream.contracts.common import Identifier, ShortText
from jobstream.contracts.money import CurrencyCode


class LineKind(StrEnum):
    """What an invoice line charges for."""

    CALL_OUT = "call_out"
    LABOUR = "labour"
    MATERIAL = "material"
    FIXED_PRICE = "fixed_price"
    MINIMUM_CHARGE = "minimum_charge"
    ADJUSTMENT = "adjustment"


class InvoiceLine(Contract):
    """One priced line; ``source_event_ids`` are the events it was priced from."""

    kind: LineKind
    description: str
    quantity_milli: Annotated[int, Field(description="Quantity × 1000 (hours, units)")]
    unit_price_minor: int
    net_minor: int
    tax_rate_basis_points: Annotated[int, Field(ge=0, le=10_000, examples=[2000])]
    tax_minor: int
    source_event_ids: tuple[str, ...] = ()


class PricingBasis(Contract):
    """What a document was priced from, so that a rebuild can re-price it exactly.

    ``trigger_event_id`` is the event that caused the document (a completion, an
    incomplete visit or a correction); the other ids name the reference data in force.
    """

    trigger_event_id: Identifier
    trigger_type: Annotated[str, Field(min_length=1, max_length=60)]
    details_event_id: Identifier
    technician_profile_event_ids: tuple[Identifier, ...] = ()
    rate_card_version: Annotated[int, Field(ge=1)]
    contract_id: Identifier | None = None
    contract_version: Annotated[int, Field(ge=1)] | None = None
    price_book_entries: tuple[Annotated[str, Field(max_length=120)], ...] = Field(
        default=(), description="SKU@version of every price book entry used"
    )


class BillingEvent(Event):
    """Base of billing's events."""

    topic: ClassVar[str] = topics.BILLING
    schema_version: ClassVar[int] = 1

    work_order_id: Identifier


@registry.register
class InvoiceIssuedV1(BillingEvent):
    """An invoice was issued for a job; ``replaces_invoice_id`` when it follows a credit."""

    event_type: ClassVar[str] = "InvoiceIssued"

    invoice_id: Identifier
    invoice_number: Annotated[str, Field(min_length=1)]
    series: Annotated[str, Field(min_length=1, max_length=20)] = "INV"
    customer_id: Identifier
    technician_id: Identifier | None = None
    currency: CurrencyCode
    lines: tuple[InvoiceLine, ...]
    net_total_minor: int
    tax_total_minor: int
    gross_total_minor: int
    issued_at: UtcDatetime
    due_on: date
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] = 30
    replaces_invoice_id: Identifier | None = None
    # Added after v1 was first committed: optional, so older payloads still read.
    customer_name: Annotated[str, Field(max_length=200)] | None = None
    contract_id: Identifier | None = None
    pricing_basis: PricingBasis | None = None


@registry.register
class CreditNoteIssuedV1(BillingEvent):
    """An issued invoice was credited, in full or in part.

    Amounts are positive: the amount credited.
    """

    event_type: ClassVar[str] = "CreditNoteIssued"

    credit_note_id: Identifier
    credit_note_number: Annotated[str, Field(min_length=1)]
    series: Annotated[str, Field(min_length=1, max_length=20)] = "CRN"
    invoice_id: Identifier
    customer_id: Identifier
    currency: CurrencyCode
    lines: tuple[InvoiceLine, ...]
    net_total_minor: int
    tax_total_minor: int
    gross_total_minor: int
    reason: ShortText
    issued_at: UtcDatetime
    # Added after v1 was first committed: optional, so older payloads still read.
    replaced_by_invoice_id: Identifier | None = None
    customer_name: Annotated[str, Field(max_length=200)] | None = None


@registry.register
class InvoicePaidV1(BillingEvent):
    """Payment for an invoice was received."""

    event_type: ClassVar[str] = "InvoicePaid"

    invoice_id: Identifier
    amount_minor: Annotated[int, Field(gt=0)]
    currency: CurrencyCode
    paid_at: UtcDatetime
    reference: Annotated[str, Field(max_length=200)] = ""
    recorded_by: Identifier


InvoiceIssued = InvoiceIssuedV1
CreditNoteIssued = CreditNoteIssuedV1
InvoicePaid = InvoicePaidV1
