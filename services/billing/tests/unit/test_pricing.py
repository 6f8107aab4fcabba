"""Invoice arithmetic: integer minor units, half-up rounding per line, totals add up."""

from hypothesis import given
from hypothesis import strategies as st

from jobstream.billing.domain.pricing import line, price_completed_job, round_half_up, totals
from jobstream.contracts.common import Priority


def test_round_half_up_rounds_halves_up():
    assert round_half_up(5, 10) == 1  # 0.5 → 1
    assert round_half_up(4, 10) == 0  # 0.4 → 0
    assert round_half_up(15, 10) == 2  # 1.5 → 2
    assert round_half_up(25, 10) == 3  # 2.5 → 3 (not banker's rounding)


def test_a_p2_job_of_75_minutes():
    lines = price_completed_job(Priority.P2, 75)
    assert [(x.description, x.net_minor, x.tax_minor) for x in lines] == [
        ("Call-out (P2)", 8_000, 1_600),
        ("Labour (75 min)", 8_125, 1_625),
    ]
    assert totals(lines).gross == 19_350


def test_tax_is_rounded_per_line():
    # 1 minute at £65/h = 1.0833p… → quantity 0.017 h → net 110.5p → 111p; VAT 22.2p → 22p
    lines = price_completed_job(Priority.P4, 1)
    assert [(x.net_minor, x.tax_minor) for x in lines] == [(111, 22)]


@given(
    priority=st.sampled_from(list(Priority)),
    minutes=st.integers(min_value=0, max_value=24 * 60),
)
def test_totals_equal_the_sum_of_the_lines_and_are_never_negative(priority, minutes):
    lines = price_completed_job(priority, minutes)
    sums = totals(lines)
    assert sums.net == sum(x.net_minor for x in lines)
    assert sums.tax == sum(x.tax_minor for x in lines)
    assert sums.gross == sums.net + sums.tax
    assert sums.gross >= 0
    assert all(x.net_minor >= 0 and x.tax_minor >= 0 for x in lines)


@given(
    quantity_milli=st.integers(min_value=0, max_value=10_000_000),
    unit=st.integers(min_value=0, max_value=10_000_000),
    rate=st.integers(min_value=0, max_value=10_000),
)
def test_a_line_is_within_half_a_minor_unit_of_the_exact_amount(quantity_milli, unit, rate):
    from fractions import Fraction

    priced = line("x", quantity_milli, unit, rate)
    exact_net = Fraction(quantity_milli * unit, 1000)
    assert abs(priced.net_minor - exact_net) <= Fraction(1, 2)
    exact_tax = Fraction(priced.net_minor * rate, 10_000)
    assert abs(priced.tax_minor - exact_tax) <= Fraction(1, 2)
