"""Lays a printed document out as an A4 PDF with ReportLab (docs/adr/0070).

Byte for byte reproducible: ReportLab's invariant mode leaves out the clock and derives the
file id from the content, and the creation date written is the document's own issue time.
The fonts are the Bitstream Vera faces that ship inside ReportLab, embedded as subsets, so
any name a customer has prints and the file looks the same on every machine.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import UTC
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from jobstream.billing.domain.printable import PrintedDocument

REGULAR = "JobstreamVera"
BOLD = "JobstreamVera-Bold"
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN - 12  # the frame pads 6 pt each side
INK = colors.HexColor("#1f2933")
RULE = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef2f6")


def _fonts() -> None:
    """Register the embedded faces once per process.

    ReportLab finds Vera.ttf in its own fonts folder.
    """
    if REGULAR not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(REGULAR, "Vera.ttf"))
        pdfmetrics.registerFont(TTFont(BOLD, "VeraBd.ttf"))


def _style(size: float = 9, *, bold: bool = False, right: bool = False) -> ParagraphStyle:
    return ParagraphStyle(
        "jobstream",
        fontName=BOLD if bold else REGULAR,
        fontSize=size,
        leading=size * 1.3,
        textColor=INK,
        alignment=TA_RIGHT if right else 0,
    )


def _text(value: str, size: float = 9, *, bold: bool = False, right: bool = False) -> Paragraph:
    return Paragraph(escape(value), _style(size, bold=bold, right=right))


def _block(lines: tuple[str, ...] | list[str], heading: str | None = None) -> list[Paragraph]:
    out = [_text(heading, 8, bold=True)] if heading else []
    return out + [_text(line) for line in lines]


def _header(doc: PrintedDocument) -> Table:
    seller = doc.seller
    left = [_text(seller.name, 13, bold=True), *_block(seller.address)]
    contact = " · ".join(x for x in (seller.phone, seller.email) if x)
    if contact:
        left.append(_text(contact))
    left.append(_text(f"VAT registration no. {seller.vat_number}"))
    right = [_text(doc.title.upper(), 18, bold=True, right=True), _text(doc.number, 11, right=True)]
    table = Table([[left, right]], colWidths=[WIDTH * 0.62, WIDTH * 0.38])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _parties(doc: PrintedDocument) -> Table:
    who = _block(doc.customer, "BILL TO")
    if doc.site:
        who += [Spacer(1, 3 * mm), *_block(doc.site, "SITE")]
    facts = Table(
        [[_text(label, 8, bold=True), _text(value)] for label, value in doc.facts],
        colWidths=[WIDTH * 0.24, WIDTH * 0.24],
    )
    facts.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    table = Table([[who, facts]], colWidths=[WIDTH * 0.52, WIDTH * 0.48])
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table


def _grid(rows: list[list[Any]], widths: list[float], *, total_rows: int = 0) -> Table:
    table = Table(rows, colWidths=[WIDTH * w for w in widths], repeatRows=1, hAlign="RIGHT")
    style: list[tuple[Any, ...]] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
    if total_rows:
        style.append(("LINEABOVE", (0, -total_rows), (-1, -total_rows), 0.8, INK))
    table.setStyle(TableStyle(style))
    return table


def _figures(head: list[str], body: Iterable[tuple[str, ...]]) -> list[list[Any]]:
    """A grid's heading and rows: the first column in words, the others figures on the right."""
    rows: list[list[Any]] = [[_text(h, 8, bold=True, right=i > 0) for i, h in enumerate(head)]]
    rows += [[_text(cell, right=i > 0) for i, cell in enumerate(row)] for row in body]
    return rows


def _lines(doc: PrintedDocument) -> Table:
    rows = _figures(
        ["Description", "Qty", "Unit price", "VAT", "Net"],
        ((x.description, x.quantity, x.unit_price, x.vat_rate, x.net) for x in doc.lines),
    )
    return _grid(rows, [0.5, 0.1, 0.15, 0.1, 0.15])


def _summary(doc: PrintedDocument) -> Table:
    rows = _figures(
        ["VAT rate", "Net", "VAT", "Gross"],
        ((band.rate, band.net, band.vat, band.gross) for band in doc.bands),
    )
    for label, value in doc.totals:
        rows.append([_text(label, bold=True), "", "", _text(value, bold=True, right=True)])
    table = _grid(rows, [0.22, 0.16, 0.16, 0.16], total_rows=len(doc.totals))
    # A total's label spans the band columns, which are empty on its row.
    table.setStyle(TableStyle([("SPAN", (0, -i), (2, -i)) for i in range(1, len(doc.totals) + 1)]))
    return table


def _standing(doc: PrintedDocument) -> Table:
    last = len(doc.standing) - 1
    rows = [
        [_text(label, bold=i == last), _text(value, bold=i == last, right=True)]
        for i, (label, value) in enumerate(doc.standing)
    ]
    table = Table(rows, colWidths=[WIDTH * 0.54, WIDTH * 0.16], hAlign="RIGHT")
    table.setStyle(
        TableStyle(
            [
                ("LINEABOVE", (0, 0), (-1, 0), 0.6, RULE),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, RULE),
            ]
        )
    )
    return table


def _footer(doc: PrintedDocument) -> Any:
    seller = doc.seller
    parts = [seller.name]
    if seller.company_number:
        parts.append(f"Company no. {seller.company_number}")
    parts.append(f"VAT no. {seller.vat_number}")
    text = " · ".join(parts)
    stamp = doc.created_at.astimezone(UTC).strftime("D:%Y%m%d%H%M%S+00'00'")

    def draw(canvas: Any, template: Any) -> None:
        # The file's creation date is the document's issue time, not the clock's.
        canvas.setDateFormatter(lambda *_: stamp)
        canvas.saveState()
        canvas.setFont(REGULAR, 7)
        canvas.setFillColor(INK)
        canvas.drawString(MARGIN, 10 * mm, text)
        canvas.drawRightString(
            A4[0] - MARGIN, 10 * mm, f"{doc.number} · page {canvas.getPageNumber()}"
        )
        canvas.restoreState()

    return draw


def render(doc: PrintedDocument) -> bytes:
    """The PDF of ``doc``: the same bytes for the same document, on any machine, any day."""
    _fonts()
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{doc.title} {doc.number}",
        author=doc.seller.name,
        subject=f"{doc.title} {doc.number} for {doc.customer[0]}",
        creator="Jobstream billing",
        invariant=True,
    )
    story: list[Flowable] = [
        _header(doc),
        Spacer(1, 8 * mm),
        _parties(doc),
        Spacer(1, 8 * mm),
        _lines(doc),
        Spacer(1, 5 * mm),
        _summary(doc),
    ]
    if doc.standing:
        story += [Spacer(1, 5 * mm), _standing(doc)]
    story.append(Spacer(1, 6 * mm))
    story += [_text(note) for note in doc.notes]
    footer = _footer(doc)
    template.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
