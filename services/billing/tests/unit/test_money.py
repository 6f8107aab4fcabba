"""Invoice arithmetic: integer minor units, half-up rounding, totals that add up."""

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from jobstream.billing.domain.money import (
    apply_basis_points,
    minutes_to_hours_milli,
    priced_line,
    round_half_up,
    totals,
)
from jobstream.contracts.billing import LineKind


def test_round_half_up_rounds_halves_up_not_to_even():
    assert round_half_up(5, 10) == 1
    assert round_half_up(4, 10) == 0
    assert round_half_up(15, 10) == 2
    assert round_half_up(25, 10) == 3


def test_a_quarter_hour_is_exactly_250_thousandths():
    assert minutes_to_hours_milli(15) == 250
    assert minutes_to_hours_milli(75) == 1250
    assert minutes_to_hours_milli(1) == 17  # 16.67 rounds half up


def test_vat_on_a_line_is_rounded_once_half_up():
    # 1.25 h at £75.00 = £93.75; VAT 20 % = £18.75 exactly
    line = priced_line(LineKind.LABOUR, "x", 1250, 7500, 2000)
    assert (line.net_minor, line.tax_minor) == (9375, 1875)
    # 0.017 h at £65.00 = 110.5p → 111p; VAT 22.2p → 22p
    line = priced_line(LineKind.LABOUR, "x", 17, 6500, 2000)
    assert (line.net_minor, line.tax_minor) == (111, 22)
    # 12.5p VAT on 62.5p… a 63p net line carries 12.6p → 13p
    assert priced_line(LineKind.MATERIAL, "x", 1000, 63, 2000).tax_minor == 13


amounts = st.integers(min_value=0, max_value=10**7)
quantities = st.integers(min_value=0, max_value=10**7)
rates = st.integers(min_value=0, max_value=10_000)


@given(quantity=quantities, unit=amounts, rate=rates)
def test_a_line_is_within_half_a_minor_unit_of_the_exact_amounts(quantity, unit, rate):
    line = priced_line(LineKind.MATERIAL, "x", quantity, unit, rate)
    assert abs(line.net_minor - Fraction(quantity * unit, 1000)) <= Fraction(1, 2)
    assert abs(line.tax_minor - Fraction(line.net_minor * rate, 10_000)) <= Fraction(1, 2)
    assert line.net_minor >= 0 and line.tax_minor >= 0


@given(st.lists(st.tuples(quantities, amounts, rates), max_size=30))
def test_totals_are_the_sums_of_the_lines(specs):
    lines = [priced_line(LineKind.MATERIAL, "x", q, u, r) for q, u, r in specs]
    sums = totals(lines)
    assert sums.net == sum(x.net_minor for x in lines)
    assert sums.tax == sum(x.tax_minor for x in lines)
    assert sums.gross == sums.net + sums.tax >= 0


@given(amount=amounts, points=st.integers(min_value=0, max_value=100_000))
def test_basis_points_round_half_up(amount, points):
    exact = Fraction(amount * points, 10_000)
    assert abs(apply_basis_points(amount, points) - exact) <= Fraction(1, 2)
    assert apply_basis_points(amount, points) >= exact - Fraction(1, 2)
