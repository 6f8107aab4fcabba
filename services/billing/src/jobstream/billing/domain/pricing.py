"""Skeleton rate card and invoice arithmetic.

Money is integer minor units. Rounding rule: half up (away from zero for positive
amounts), applied once per line — to the line's net and then to the line's tax — and
totals are sums of the rounded lines, so an invoice always adds up.
"""

from __future__ import annotations

from dataclasses import dataclass

from jobstream.contracts.billing import InvoiceLine, LineKind
from jobstream.contracts.common import Priority

CURRENCY = "GBP"
LABOUR_RATE_PER_HOUR_MINOR = 6_500
CALL_OUT_FEE_MINOR: dict[Priority, int] = {
    Priority.P1: 12_000,
    Priority.P2: 8_000,
    Priority.P3: 5_000,
    Priority.P4: 0,
}
VAT_BASIS_POINTS = 2_000  # UK VAT 20 %
PAYMENT_TERMS_DAYS = 30


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative numerators."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def line(
    description: str,
    quantity_milli: int,
    unit_price_minor: int,
    tax_basis_points: int,
    kind: LineKind = LineKind.ADJUSTMENT,
) -> InvoiceLine:
    """One invoice line with its net and tax rounded half up."""
    net = round_half_up(quantity_milli * unit_price_minor, 1000)
    tax = round_half_up(net * tax_basis_points, 10_000)
    return InvoiceLine(
        kind=kind,
        description=description,
        quantity_milli=quantity_milli,
        unit_price_minor=unit_price_minor,
        net_minor=net,
        tax_rate_basis_points=tax_basis_points,
        tax_minor=tax,
    )


@dataclass(frozen=True)
class Totals:
    """Sums of the rounded lines."""

    net: int
    tax: int
    gross: int


def totals(lines: tuple[InvoiceLine, ...]) -> Totals:
    """Net, tax and gross of an invoice."""
    net = sum(x.net_minor for x in lines)
    tax = sum(x.tax_minor for x in lines)
    return Totals(net=net, tax=tax, gross=net + tax)


def price_completed_job(priority: Priority, labour_minutes: int) -> tuple[InvoiceLine, ...]:
    """Call-out fee by priority plus labour by the minute."""
    lines = []
    call_out = CALL_OUT_FEE_MINOR[priority]
    if call_out:
        lines.append(
            line(
                f"Call-out ({priority.value})", 1000, call_out, VAT_BASIS_POINTS, LineKind.CALL_OUT
            )
        )
    if labour_minutes:
        # quantity in thousandths of an hour, rounded half up to the nearest thousandth
        hours_milli = round_half_up(labour_minutes * 1000, 60)
        lines.append(
            line(
                f"Labour ({labour_minutes} min)",
                hours_milli,
                LABOUR_RATE_PER_HOUR_MINOR,
                VAT_BASIS_POINTS,
                LineKind.LABOUR,
            )
        )
    return tuple(lines)
