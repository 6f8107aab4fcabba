"""A work order's billing documents: state folded from billing's own events, and decisions.

Never edit an issued invoice: a change of price is a full credit note for the current
invoice plus a new invoice that names the one it replaces (docs/adr/0042).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from jobstream.billing.domain.commands import RecordPayment
from jobstream.billing.domain.money import totals
from jobstream.billing.domain.pricing import JobFacts, NotChargeable, PricedJob
from jobstream.contracts.base import Event
from jobstream.contracts.billing import (
    CreditNoteIssued,
    InvoiceIssued,
    InvoiceLine,
    InvoicePaid,
)
from jobstream.errors import ConflictError, InvalidInputError
from jobstream.ids import derived_id

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CRN"


def document_number(series: str, number: int) -> str:
    """``INV-000042``: the series and a zero-padded gapless number."""
    return f"{series}-{number:06d}"


def stream_id(work_order_id: str) -> str:
    """The event stream of one work order's billing documents."""
    return f"billing-{work_order_id}"


@dataclass(frozen=True)
class BillingState:
    """What billing has issued for one work order."""

    invoices: dict[str, InvoiceIssued] = field(default_factory=dict)
    credited: frozenset[str] = frozenset()
    paid_minor: dict[str, int] = field(default_factory=dict)
    current_invoice_id: str | None = None
    triggers: frozenset[str] = frozenset()

    @property
    def current(self) -> InvoiceIssued | None:
        """The invoice in force (issued and not credited)."""
        return self.invoices.get(self.current_invoice_id) if self.current_invoice_id else None

    def outstanding(self, invoice_id: str) -> int:
        """What remains to be paid on an invoice."""
        invoice = self.invoices[invoice_id]
        return max(invoice.gross_total_minor - self.paid_minor.get(invoice_id, 0), 0)


def evolve(state: BillingState, event: Event) -> BillingState:
    """Fold one billing event."""
    match event:
        case InvoiceIssued():
            triggers = state.triggers
            if event.pricing_basis is not None:
                triggers = triggers | {event.pricing_basis.trigger_event_id}
            return replace(
                state,
                invoices={**state.invoices, event.invoice_id: event},
                current_invoice_id=event.invoice_id,
                triggers=triggers,
            )
        case CreditNoteIssued():
            return replace(
                state,
                credited=state.credited | {event.invoice_id},
                current_invoice_id=(
                    None
                    if state.current_invoice_id == event.invoice_id
                    else state.current_invoice_id
                ),
            )
        case InvoicePaid():
            paid = state.paid_minor.get(event.invoice_id, 0) + event.amount_minor
            return replace(state, paid_minor={**state.paid_minor, event.invoice_id: paid})
    return state


def _charges(lines: tuple[InvoiceLine, ...]) -> list[tuple[object, ...]]:
    """What a line charges, without which events it came from."""
    return [
        (x.kind, x.description, x.quantity_milli, x.unit_price_minor, x.net_minor, x.tax_minor)
        for x in lines
    ]


@dataclass(frozen=True)
class Plan:
    """What to issue for a trigger.

    Possibly a credit for the current invoice, possibly a new invoice (which then replaces
    the credited one).
    """

    credit: InvoiceIssued | None = None
    invoice: PricedJob | None = None

    @property
    def empty(self) -> bool:
        """Nothing to issue."""
        return self.credit is None and self.invoice is None


def decide_documents(
    state: BillingState, trigger_event_id: str, priced: PricedJob | NotChargeable
) -> Plan:
    """Issue, correct or leave alone.

    Idempotent: a trigger already answered gives nothing, and a price equal to the current
    invoice's gives nothing.
    """
    if trigger_event_id in state.triggers:
        return Plan()
    current = state.current
    if isinstance(priced, NotChargeable):
        return Plan(credit=current) if current is not None else Plan()
    if current is None:
        return Plan(invoice=priced)
    if _charges(current.lines) == _charges(priced.lines) and current.currency == priced.currency:
        return Plan()
    return Plan(credit=current, invoice=priced)


def decide_payment(state: BillingState, invoice_id: str, command: RecordPayment) -> InvoicePaid:
    """The ``InvoicePaid`` that records ``command`` against one of the work order's invoices.

    Raises:
        ConflictError: the invoice was credited, or nothing is left to pay on it.
        InvalidInputError: the amount exceeds what is outstanding, or the payment is dated
            before the invoice was issued.
    """
    if invoice_id in state.credited:
        raise ConflictError("invoice was credited")
    invoice = state.invoices[invoice_id]
    outstanding = state.outstanding(invoice_id)
    if outstanding == 0:
        raise ConflictError(
            "invoice totals zero: nothing to pay"
            if invoice.gross_total_minor == 0
            else "invoice is already paid"
        )
    amount = command.amount_minor or outstanding
    if amount > outstanding:
        raise InvalidInputError(
            f"amount_minor: exceeds the {outstanding} outstanding", field="amount_minor"
        )
    if command.paid_at < invoice.issued_at:
        raise InvalidInputError("paid_at: before the invoice was issued", field="paid_at")
    return InvoicePaid(
        work_order_id=invoice.work_order_id,
        invoice_id=invoice_id,
        amount_minor=amount,
        currency=invoice.currency,
        paid_at=command.paid_at,
        reference=command.reference,
        recorded_by=command.recorded_by,
    )


@dataclass(frozen=True)
class Party:
    """Who a document is for, and where the job was."""

    work_order_id: str
    customer_id: str
    customer_name: str | None
    technician_id: str | None
    contract_id: str | None
    site_time_zone: str

    @classmethod
    def of(cls, facts: JobFacts) -> Party:
        """The party of a priced job: its customer, technician, contract and site."""
        details = facts.details
        return cls(
            work_order_id=facts.work_order_id,
            customer_id=details.customer_id,
            customer_name=details.customer_name,
            technician_id=facts.outcome.technician_id,
            contract_id=details.contract_id,
            site_time_zone=details.site.time_zone,
        )


def due_on(issued_at: datetime, site_time_zone: str, payment_terms_days: int) -> date:
    """The due date: the issue date, in the site's time zone, plus the terms."""
    return issued_at.astimezone(ZoneInfo(site_time_zone)).date() + timedelta(
        days=payment_terms_days
    )


def build_invoice(
    priced: PricedJob,
    party: Party,
    *,
    number: int,
    issued_at: datetime,
    replaces_invoice_id: str | None,
) -> InvoiceIssued:
    """The InvoiceIssued for a priced job; its id derives from the trigger."""
    sums = totals(priced.lines)
    return InvoiceIssued(
        work_order_id=party.work_order_id,
        invoice_id=derived_id("invoice", priced.basis.trigger_event_id),
        invoice_number=document_number(INVOICE_SERIES, number),
        series=INVOICE_SERIES,
        customer_id=party.customer_id,
        customer_name=party.customer_name,
        technician_id=party.technician_id,
        contract_id=party.contract_id,
        currency=priced.currency,
        lines=priced.lines,
        net_total_minor=sums.net,
        tax_total_minor=sums.tax,
        gross_total_minor=sums.gross,
        issued_at=issued_at,
        due_on=due_on(issued_at, party.site_time_zone, priced.payment_terms_days),
        payment_terms_days=priced.payment_terms_days,
        replaces_invoice_id=replaces_invoice_id,
        pricing_basis=priced.basis,
    )


def build_credit_note(
    invoice: InvoiceIssued,
    *,
    number: int,
    issued_at: datetime,
    reason: str,
    replaced_by_invoice_id: str | None,
) -> CreditNoteIssued:
    """A full credit of ``invoice``: the same lines, amounts positive (the amount credited)."""
    return CreditNoteIssued(
        work_order_id=invoice.work_order_id,
        credit_note_id=derived_id("credit-note", invoice.invoice_id),
        credit_note_number=document_number(CREDIT_NOTE_SERIES, number),
        series=CREDIT_NOTE_SERIES,
        invoice_id=invoice.invoice_id,
        customer_id=invoice.customer_id,
        customer_name=invoice.customer_name,
        currency=invoice.currency,
        lines=invoice.lines,
        net_total_minor=invoice.net_total_minor,
        tax_total_minor=invoice.tax_total_minor,
        gross_total_minor=invoice.gross_total_minor,
        reason=reason,
        issued_at=issued_at,
        replaced_by_invoice_id=replaced_by_invoice_id,
    )
