"""What a printed invoice or credit note says, every amount and date already formatted.

Pure: the same document and facts give the same text, so a rebuilt projection prints the
same bytes (docs/adr/0070). Amounts are formatted from integer minor units by integer
arithmetic only; VAT is summarised per rate from the rounded lines, so the bands add up to
the document's totals exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, InvoiceLine

# ISO 4217 minor-unit exponents that are not 2 (pence, cents …).
CURRENCY_EXPONENTS = {
    "BHD": 3,
    "CLP": 0,
    "IQD": 3,
    "ISK": 0,
    "JOD": 3,
    "JPY": 0,
    "KRW": 0,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
    "VND": 0,
}
CURRENCY_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DEFAULT_TIME_ZONE = "Europe/London"
STATUS_NAMES = {
    "issued": "Unpaid",
    "part_paid": "Part paid",
    "paid": "Paid",
    "credited": "Credited",
}


def format_money(minor: int, currency: str) -> str:
    """``£1,234.56`` from 123456 GBP; ``CHF 12.00``; ``¥`` currencies with no decimals."""
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    major, fraction = divmod(abs(minor), 10**exponent)
    amount = f"{major:,}" + (f".{fraction:0{exponent}d}" if exponent else "")
    sign = "-" if minor < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{sign}{symbol}{amount}" if symbol else f"{sign}{currency} {amount}"


def format_quantity(milli: int) -> str:
    """Thousandths as a plain number: 1250 → ``1.25``, 2000 → ``2``, 17 → ``0.017``."""
    major, fraction = divmod(abs(milli), 1000)
    sign = "-" if milli < 0 else ""
    if fraction == 0:
        return f"{sign}{major:,}"
    return f"{sign}{major:,}.{fraction:03d}".rstrip("0")


def format_rate(basis_points: int) -> str:
    """A VAT rate: 2000 → ``20%``, 1750 → ``17.5%``, 0 → ``0%``."""
    whole, fraction = divmod(basis_points, 100)
    if fraction == 0:
        return f"{whole}%"
    return f"{whole}.{fraction:02d}".rstrip("0") + "%"


def format_date(day: date) -> str:
    """``24 Nov 2026``, the same whatever the process's locale."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def local_date(at: datetime, time_zone: str) -> date:
    """The calendar date of ``at`` where the work was done."""
    return at.astimezone(ZoneInfo(time_zone)).date()


def humanise(code: str) -> str:
    """``boiler_service`` → ``Boiler service``."""
    text = code.replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class VatBand:
    """The lines at one VAT rate: their net and VAT, summed from the rounded lines."""

    rate_bp: int
    net: int
    vat: int

    @property
    def gross(self) -> int:
        """Net plus VAT."""
        return self.net + self.vat


def vat_bands(lines: Iterable[InvoiceLine]) -> tuple[VatBand, ...]:
    """One band per VAT rate, highest rate first."""
    sums: dict[int, tuple[int, int]] = {}
    for line in lines:
        net, vat = sums.get(line.tax_rate_basis_points, (0, 0))
        sums[line.tax_rate_basis_points] = (net + line.net_minor, vat + line.tax_minor)
    return tuple(VatBand(rate, net, vat) for rate, (net, vat) in sorted(sums.items(), reverse=True))


# --------------------------------------------------------------------------------------
# what goes into a document besides the billing event


@dataclass(frozen=True)
class Seller:
    """Who issues the document (billing's settings)."""

    name: str
    address: tuple[str, ...]
    vat_number: str
    company_number: str = ""
    email: str = ""
    phone: str = ""
    payment_instructions: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobContext:
    """What the job's recorded facts add: where, what kind of job, and when it ended."""

    site_address: str | None = None
    job_type: str | None = None
    time_zone: str = DEFAULT_TIME_ZONE
    outcome: str | None = None  # "JobCompleted" or "JobIncomplete"
    outcome_at: datetime | None = None
    incomplete_reason: str | None = None


@dataclass(frozen=True)
class Payment:
    """A payment received against an invoice."""

    paid_at: datetime
    amount_minor: int
    reference: str = ""


@dataclass(frozen=True)
class Standing:
    """Where an invoice stands now: status and what has been paid."""

    status: str
    paid_minor: int
    outstanding_minor: int
    payments: tuple[Payment, ...] = ()
    credited_by: str | None = None  # the credit note's number


# --------------------------------------------------------------------------------------
# the printed document


@dataclass(frozen=True)
class PrintedLine:
    """One line as printed."""

    description: str
    quantity: str
    unit_price: str
    vat_rate: str
    net: str


@dataclass(frozen=True)
class PrintedBand:
    """One VAT rate's sums as printed."""

    rate: str
    net: str
    vat: str
    gross: str


@dataclass(frozen=True)
class PrintedDocument:
    """Everything a PDF shows, as text; ``created_at`` stamps the file's metadata."""

    title: str
    number: str
    created_at: datetime
    seller: Seller
    customer: tuple[str, ...]
    site: tuple[str, ...]
    facts: tuple[tuple[str, str], ...]
    lines: tuple[PrintedLine, ...]
    bands: tuple[PrintedBand, ...]
    totals: tuple[tuple[str, str], ...]
    standing: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]

    @property
    def filename(self) -> str:
        """``invoice-INV-000042.pdf``: only characters safe in a header and a file name."""
        safe = "".join(
            c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in self.number
        )
        return f"{self.title.lower().replace(' ', '-')}-{safe}.pdf"


def _lines(lines: Sequence[InvoiceLine], currency: str) -> tuple[PrintedLine, ...]:
    return tuple(
        PrintedLine(
            description=line.description,
            quantity=format_quantity(line.quantity_milli),
            unit_price=format_money(line.unit_price_minor, currency),
            vat_rate=format_rate(line.tax_rate_basis_points),
            net=format_money(line.net_minor, currency),
        )
        for line in lines
    )


def _bands(lines: Sequence[InvoiceLine], currency: str) -> tuple[PrintedBand, ...]:
    return tuple(
        PrintedBand(
            rate=format_rate(band.rate_bp),
            net=format_money(band.net, currency),
            vat=format_money(band.vat, currency),
            gross=format_money(band.gross, currency),
        )
        for band in vat_bands(lines)
    )


def _customer(customer_id: str, customer_name: str | None) -> tuple[str, ...]:
    return (customer_name or customer_id, f"Account {customer_id}")


def _site(job: JobContext) -> tuple[str, ...]:
    if not job.site_address:
        return ()
    return tuple(part.strip() for part in job.site_address.split(",") if part.strip())


def _job_facts(work_order_id: str, job: JobContext) -> list[tuple[str, str]]:
    facts = [("Work order", work_order_id)]
    if job.job_type:
        facts.append(("Job type", humanise(job.job_type)))
    if job.outcome_at is not None:
        when = format_date(local_date(job.outcome_at, job.time_zone))
        if job.outcome == "JobIncomplete":
            reason = f" ({humanise(job.incomplete_reason)})" if job.incomplete_reason else ""
            facts.append(("Visit ended", f"{when}, not completed{reason}"))
        else:
            facts.append(("Completed", when))
    return facts


def printed_invoice(
    invoice: InvoiceIssued,
    standing: Standing,
    job: JobContext,
    seller: Seller,
    *,
    replaces: str | None = None,
) -> PrintedDocument:
    """An invoice as printed now; ``replaces`` is the number of the invoice it corrects."""
    currency = invoice.currency
    issued_on = local_date(invoice.issued_at, job.time_zone)
    facts = [
        ("Invoice number", invoice.invoice_number),
        ("Invoice date (tax point)", format_date(issued_on)),
        ("Due date", format_date(invoice.due_on)),
        *_job_facts(invoice.work_order_id, job),
    ]
    if invoice.contract_id:
        facts.append(("Contract", invoice.contract_id))
    if replaces:
        facts.append(("Replaces invoice", replaces))

    money = [
        ("Status", STATUS_NAMES.get(standing.status, humanise(standing.status))),
        ("Paid", format_money(standing.paid_minor, currency)),
    ]
    for payment in standing.payments:
        label = f"Received {format_date(local_date(payment.paid_at, job.time_zone))}"
        if payment.reference:
            label += f" ({payment.reference})"
        money.append((label, format_money(payment.amount_minor, currency)))
    money.append(("Amount due", format_money(standing.outstanding_minor, currency)))

    terms = (
        "Payment terms: due on receipt."
        if invoice.payment_terms_days == 0
        else f"Payment terms: {invoice.payment_terms_days} days from the invoice date; "
        f"please pay by {format_date(invoice.due_on)}."
    )
    notes = [terms]
    if standing.credited_by:
        notes.append(
            f"This invoice has been credited in full by credit note {standing.credited_by}: "
            "nothing is due on it."
        )
    elif standing.outstanding_minor > 0:
        notes.extend(seller.payment_instructions)
    if replaces:
        notes.append(f"This invoice replaces invoice {replaces}, which has been credited.")
    return PrintedDocument(
        title="Invoice",
        number=invoice.invoice_number,
        created_at=invoice.issued_at,
        seller=seller,
        customer=_customer(invoice.customer_id, invoice.customer_name),
        site=_site(job),
        facts=tuple(facts),
        lines=_lines(invoice.lines, currency),
        bands=_bands(invoice.lines, currency),
        totals=(
            ("Total net", format_money(invoice.net_total_minor, currency)),
            ("Total VAT", format_money(invoice.tax_total_minor, currency)),
            ("Total", format_money(invoice.gross_total_minor, currency)),
        ),
        standing=tuple(money),
        notes=tuple(notes),
    )


def printed_credit_note(
    credit: CreditNoteIssued,
    job: JobContext,
    seller: Seller,
    *,
    invoice_number: str,
    invoice_issued_at: datetime | None = None,
    replaced_by: str | None = None,
) -> PrintedDocument:
    """A credit note, naming the invoice it credits and any invoice that replaces it."""
    currency = credit.currency
    credited = invoice_number
    if invoice_issued_at is not None:
        credited += f" of {format_date(local_date(invoice_issued_at, job.time_zone))}"
    facts = [
        ("Credit note number", credit.credit_note_number),
        ("Credit note date", format_date(local_date(credit.issued_at, job.time_zone))),
        ("Credits invoice", credited),
        *_job_facts(credit.work_order_id, job),
    ]
    if replaced_by:
        facts.append(("Replaced by invoice", replaced_by))
    notes = [f"Reason: {credit.reason}"]
    notes.append(
        f"This credit note reduces the amount owed on invoice {invoice_number} by "
        f"{format_money(credit.gross_total_minor, currency)} including VAT."
    )
    if replaced_by:
        notes.append(f"A corrected invoice, {replaced_by}, has been issued in its place.")
    return PrintedDocument(
        title="Credit note",
        number=credit.credit_note_number,
        created_at=credit.issued_at,
        seller=seller,
        customer=_customer(credit.customer_id, credit.customer_name),
        site=_site(job),
        facts=tuple(facts),
        lines=_lines(credit.lines, currency),
        bands=_bands(credit.lines, currency),
        totals=(
            ("Total net credited", format_money(credit.net_total_minor, currency)),
            ("Total VAT credited", format_money(credit.tax_total_minor, currency)),
            ("Total credited", format_money(credit.gross_total_minor, currency)),
        ),
        standing=(),
        notes=tuple(notes),
    )
