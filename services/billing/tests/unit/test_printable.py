"""Printed documents: money from integer minor units, VAT per rate, reproducible PDFs."""

import io
import re
from datetime import UTC, date, datetime

import pypdf
from hypothesis import given
from hypothesis import strategies as st

from jobstream.billing.config import BillingSettings
from jobstream.billing.domain.money import priced_line, totals
from jobstream.billing.domain.printable import (
    JobContext,
    Payment,
    Standing,
    format_date,
    format_money,
    format_quantity,
    format_rate,
    printed_credit_note,
    printed_invoice,
    vat_bands,
)
from jobstream.billing.pdf import render
from jobstream.billing.printing import seller_of
from jobstream.contracts.billing import CreditNoteIssued, InvoiceIssued, LineKind

ISSUED = datetime(2026, 11, 24, 15, 30, tzinfo=UTC)
SELLER = seller_of(BillingSettings())
JOB = JobContext(
    site_address="14 Deansgate, Manchester, M3 2BW",
    job_type="boiler_service",
    outcome="JobCompleted",
    outcome_at=datetime(2026, 11, 24, 14, 0, tzinfo=UTC),
)


def invoice(*lines) -> InvoiceIssued:
    sums = totals(lines)
    return InvoiceIssued(
        work_order_id="wo-42",
        invoice_id="inv-42",
        invoice_number="INV-000042",
        customer_id="cust-1",
        customer_name="Zoë Łukasiewicz Dental",
        currency="GBP",
        lines=lines,
        net_total_minor=sums.net,
        tax_total_minor=sums.tax,
        gross_total_minor=sums.gross,
        issued_at=ISSUED,
        due_on=date(2026, 12, 24),
    )


MIXED = invoice(
    priced_line(LineKind.CALL_OUT, "Call-out (P2)", 1000, 8000, 2000),
    priced_line(LineKind.LABOUR, "Labour, level 4 engineer", 1250, 7500, 2000),
    priced_line(LineKind.MATERIAL, "Loft insulation roll", 3000, 2333, 500),
)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_money_is_formatted_from_minor_units_with_the_currency():
    assert format_money(123456, "GBP") == "£1,234.56"
    assert format_money(5, "GBP") == "£0.05"
    assert format_money(-1999, "EUR") == "-€19.99"
    assert format_money(1200, "CHF") == "CHF 12.00"
    assert format_money(1200, "JPY") == "JPY 1,200"
    assert format_money(1234, "KWD") == "KWD 1.234"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_formatted_money_reads_back_as_the_same_minor_units(minor):
    text = format_money(minor, "GBP")
    digits = int(re.sub(r"[^0-9]", "", text))
    assert (-digits if text.startswith("-") else digits) == minor


def test_quantities_rates_and_dates_print_plainly():
    assert [format_quantity(q) for q in (1250, 2000, 17, 1_500_000)] == [
        "1.25",
        "2",
        "0.017",
        "1,500",
    ]
    assert [format_rate(r) for r in (2000, 500, 0, 1750)] == ["20%", "5%", "0%", "17.5%"]
    assert format_date(date(2026, 3, 1)) == "1 Mar 2026"


@given(
    st.lists(
        st.tuples(
            st.integers(1, 100_000), st.integers(0, 1_000_000), st.sampled_from([0, 500, 2000])
        ),
        min_size=1,
        max_size=20,
    )
)
def test_the_vat_bands_add_up_to_the_documents_totals(specs):
    lines = [priced_line(LineKind.MATERIAL, "x", q, p, rate) for q, p, rate in specs]
    bands = vat_bands(lines)
    sums = totals(lines)
    assert sum(b.net for b in bands) == sums.net
    assert sum(b.vat for b in bands) == sums.tax
    assert sum(b.gross for b in bands) == sums.gross
    assert [b.rate_bp for b in bands] == sorted({r for _, _, r in specs}, reverse=True)


def test_an_invoice_with_two_vat_rates_shows_each_band_and_the_totals():
    doc = printed_invoice(MIXED, Standing("issued", 0, MIXED.gross_total_minor), JOB, SELLER)
    # 20 %: 80.00 + 93.75 net, 16.00 + 18.75 VAT; 5 %: 3 × 23.33 = 69.99 net, 3.50 VAT
    assert [(b.rate, b.net, b.vat, b.gross) for b in doc.bands] == [
        ("20%", "£173.75", "£34.75", "£208.50"),
        ("5%", "£69.99", "£3.50", "£73.49"),
    ]
    assert doc.totals == (("Total net", "£243.74"), ("Total VAT", "£38.25"), ("Total", "£281.99"))
    assert ("Amount due", "£281.99") in doc.standing
    assert SELLER.payment_instructions[0] in doc.notes


def test_the_invoice_date_is_the_sites_calendar_date():
    late = MIXED.model_copy(update={"issued_at": datetime(2026, 7, 1, 23, 30, tzinfo=UTC)})
    doc = printed_invoice(late, Standing("issued", 0, 1), JOB, SELLER)
    # 23:30 UTC on 1 July is 00:30 on 2 July in London (BST), as the due date counts from.
    assert ("Invoice date (tax point)", "2 Jul 2026") in doc.facts


def test_a_paid_invoice_lists_its_payments_and_asks_for_nothing():
    paid = Payment(datetime(2026, 11, 30, 9, tzinfo=UTC), MIXED.gross_total_minor, "BACS 77")
    doc = printed_invoice(MIXED, Standing("paid", MIXED.gross_total_minor, 0, (paid,)), JOB, SELLER)
    assert ("Status", "Paid") in doc.standing
    assert ("Received 30 Nov 2026 (BACS 77)", "£281.99") in doc.standing
    assert doc.standing[-1] == ("Amount due", "£0.00")
    assert not set(SELLER.payment_instructions) & set(doc.notes)


def test_a_credit_note_names_the_invoice_it_credits_and_its_replacement():
    credit = CreditNoteIssued(
        work_order_id="wo-42",
        credit_note_id="crn-1",
        credit_note_number="CRN-000007",
        invoice_id="inv-42",
        customer_id="cust-1",
        currency="GBP",
        lines=MIXED.lines,
        net_total_minor=MIXED.net_total_minor,
        tax_total_minor=MIXED.tax_total_minor,
        gross_total_minor=MIXED.gross_total_minor,
        reason="Credited in full: materials used were corrected",
        issued_at=datetime(2026, 11, 26, 9, tzinfo=UTC),
    )
    doc = printed_credit_note(
        credit,
        JOB,
        SELLER,
        invoice_number="INV-000042",
        invoice_issued_at=ISSUED,
        replaced_by="INV-000043",
    )
    assert ("Credits invoice", "INV-000042 of 24 Nov 2026") in doc.facts
    assert ("Replaced by invoice", "INV-000043") in doc.facts
    assert doc.totals[-1] == ("Total credited", "£281.99")
    assert doc.filename == "credit-note-CRN-000007.pdf"


def test_the_pdf_is_the_same_bytes_every_time_and_dated_by_the_invoice():
    doc = printed_invoice(MIXED, Standing("issued", 0, MIXED.gross_total_minor), JOB, SELLER)
    first, second = render(doc), render(doc)
    assert first == second
    info = pypdf.PdfReader(io.BytesIO(first)).metadata
    assert info["/CreationDate"] == "D:20261124153000+00'00'"
    assert info["/Title"] == "Invoice INV-000042"


def test_the_pdf_text_carries_the_seller_customer_lines_and_totals():
    doc = printed_invoice(MIXED, Standing("issued", 0, MIXED.gross_total_minor), JOB, SELLER)
    text = text_of(render(doc))
    for expected in (
        SELLER.name,
        f"VAT registration no. {SELLER.vat_number}",
        "INV-000042",
        "Zoë Łukasiewicz Dental",  # beyond Latin-1: the embedded font has the glyphs
        "Manchester",
        "Boiler service",
        "Loft insulation roll",
        "£23.33",
        "£281.99",
        "Due date",
        "24 Dec 2026",
    ):
        assert expected in text, expected


def test_a_long_invoice_runs_onto_more_pages():
    lines = [priced_line(LineKind.MATERIAL, f"Part {i}", 1000, 100, 2000) for i in range(80)]
    long = invoice(*lines)
    pdf = render(printed_invoice(long, Standing("issued", 0, 1), JOB, SELLER))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    assert "Part 79" in text_of(pdf) and "£96.00" in text_of(pdf)


def test_the_seller_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("BILLING_SELLER_NAME", "Pennine Plumbing Ltd")
    monkeypatch.setenv("BILLING_SELLER_ADDRESS", '["2 Mill Lane", "Halifax", "HX1 1AA"]')
    monkeypatch.setenv("BILLING_SELLER_VAT_NUMBER", "GB 987 6543 21")
    seller = seller_of(BillingSettings())
    assert seller.name == "Pennine Plumbing Ltd"
    assert seller.address == ("2 Mill Lane", "Halifax", "HX1 1AA")
    doc = printed_invoice(MIXED, Standing("issued", 0, 1), JOB, seller)
    assert "VAT registration no. GB 987 6543 21" in text_of(render(doc))
