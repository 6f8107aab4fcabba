"""Export to Xero's sales invoice and credit note CSV import templates (docs/adr/0044).

One row per line; the document's number, dates and contact repeat on each of its rows, as
Xero groups rows by number. Amounts are tax exclusive; the tax of each line is given in
``TaxAmount`` so Xero keeps Jobstream's per-line rounding instead of computing its own.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

INVOICE_COLUMNS = (
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
)
CREDIT_NOTE_COLUMNS = tuple(
    {"*InvoiceNumber": "*CreditNoteNumber", "*InvoiceDate": "*CreditNoteDate"}.get(c, c)
    for c in INVOICE_COLUMNS
    if c != "*DueDate"
)

# Xero UK's default names for output VAT; an organisation's own names can be configured.
DEFAULT_TAX_TYPES: Mapping[int, str] = {
    2000: "20% (VAT on Income)",
    500: "5% (VAT on Income)",
    0: "Zero Rated Income",
}
DEFAULT_ACCOUNT_CODE = "200"  # Xero UK's default "Sales" account


def _money(minor: int) -> str:
    return f"{Decimal(minor) / 100:.2f}"


def _quantity(milli: int) -> str:
    return f"{Decimal(milli) / 1000:.3f}"


def _date(value: str | date | datetime) -> str:
    parsed = date.fromisoformat(value[:10]) if isinstance(value, str) else value
    return parsed.strftime("%d/%m/%Y")


def _rows(
    document: Mapping[str, Any],
    number_column: str,
    number_key: str,
    date_column: str,
    due: str | None,
    tax_types: Mapping[int, str],
    account_code: str,
) -> Iterable[dict[str, str]]:
    for line in document["lines"]:
        rate = int(line["tax_rate_basis_points"])
        row = {
            "*ContactName": document.get("customer_name") or document["customer_id"],
            number_column: str(document[number_key]),
            "Reference": document["work_order_id"],
            date_column: _date(document["issued_at"]),
            "InventoryItemCode": "",
            "*Description": line["description"],
            "*Quantity": _quantity(int(line["quantity_milli"])),
            "*UnitAmount": _money(int(line["unit_price_minor"])),
            "*AccountCode": account_code,
            "*TaxType": tax_types.get(rate, f"{rate / 100:g}% (VAT on Income)"),
            "TaxAmount": _money(int(line["tax_minor"])),
            "TrackingName1": "Line kind",
            "TrackingOption1": line["kind"],
            "Currency": document["currency"],
        }
        if due is not None:
            row["*DueDate"] = due
        yield row


def _write(columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def invoices_csv(
    invoices: Iterable[Mapping[str, Any]],
    *,
    tax_types: Mapping[int, str] = DEFAULT_TAX_TYPES,
    account_code: str = DEFAULT_ACCOUNT_CODE,
) -> str:
    """Xero's sales invoice import CSV for ``invoices`` (InvoiceIssued documents)."""

    def rows() -> Iterable[dict[str, str]]:
        for invoice in invoices:
            yield from _rows(
                invoice,
                "*InvoiceNumber",
                "invoice_number",
                "*InvoiceDate",
                _date(invoice["due_on"]),
                tax_types,
                account_code,
            )

    return _write(INVOICE_COLUMNS, rows())


def credit_notes_csv(
    credit_notes: Iterable[Mapping[str, Any]],
    *,
    tax_types: Mapping[int, str] = DEFAULT_TAX_TYPES,
    account_code: str = DEFAULT_ACCOUNT_CODE,
) -> str:
    """Xero's credit note import CSV (amounts positive, as Xero expects for credit notes)."""

    def rows() -> Iterable[dict[str, str]]:
        for credit in credit_notes:
            yield from _rows(
                credit,
                "*CreditNoteNumber",
                "credit_note_number",
                "*CreditNoteDate",
                None,
                tax_types,
                account_code,
            )

    return _write(CREDIT_NOTE_COLUMNS, rows())
