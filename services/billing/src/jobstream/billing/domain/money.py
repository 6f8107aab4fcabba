"""Invoice arithmetic in integer minor units, with one rounding rule applied everywhere.

Rounding (docs/adr/0040): half up, for non-negative amounts only, applied once per
quantity (minutes → thousandths of an hour), once per unit price (a rate times a
multiplier or markup), once per line net (quantity × unit price) and once per line tax
(net × rate). Totals are sums of the rounded lines, so a document always adds up.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from jobstream.contracts.billing import InvoiceLine, LineKind

BASIS_POINTS = 10_000
MILLI = 1_000


def round_half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for a non-negative numerator."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def apply_basis_points(amount_minor: int, basis_points: int) -> int:
    """``amount`` × ``basis_points`` / 10 000, rounded half up (rates, multipliers, markups)."""
    return round_half_up(amount_minor * basis_points, BASIS_POINTS)


def minutes_to_hours_milli(minutes: int) -> int:
    """Minutes as thousandths of an hour (15 min = 250), rounded half up."""
    return round_half_up(minutes * MILLI, 60)


def priced_line(
    kind: LineKind,
    description: str,
    quantity_milli: int,
    unit_price_minor: int,
    tax_rate_basis_points: int,
    source_event_ids: Iterable[str] = (),
) -> InvoiceLine:
    """One line: net = quantity × unit price, tax = net × rate, each rounded half up."""
    net = round_half_up(quantity_milli * unit_price_minor, MILLI)
    tax = apply_basis_points(net, tax_rate_basis_points)
    return InvoiceLine(
        kind=kind,
        description=description,
        quantity_milli=quantity_milli,
        unit_price_minor=unit_price_minor,
        net_minor=net,
        tax_rate_basis_points=tax_rate_basis_points,
        tax_minor=tax,
        source_event_ids=tuple(source_event_ids),
    )


@dataclass(frozen=True)
class Totals:
    """Sums of the rounded lines."""

    net: int
    tax: int
    gross: int


def totals(lines: Iterable[InvoiceLine]) -> Totals:
    """Net, tax and gross of a document: always the sums of its lines."""
    listed = list(lines)
    net = sum(x.net_minor for x in listed)
    tax = sum(x.tax_minor for x in listed)
    return Totals(net=net, tax=tax, gross=net + tax)
