"""Pricing a job from its events with the default rate card, contracts and price book."""

from datetime import UTC, datetime, timedelta

import pytest
from factories import CARD, TUESDAY_10, config, facts, labour, material, technician
from hypothesis import given, settings
from hypothesis import strategies as st

from jobstream.billing.domain.config import ContractTerms, FixedPrice, PriceBookEntry
from jobstream.billing.domain.documents import Party, build_credit_note, build_invoice
from jobstream.billing.domain.pricing import (
    NotChargeable,
    PricedJob,
    PricingBlockedError,
    price_job,
)
from jobstream.contracts.billing import LineKind
from jobstream.contracts.common import Priority
from jobstream.contracts.dispatch import Shift
from jobstream.contracts.field import IncompleteReason, MaterialSource


def priced(*args, **kwargs) -> PricedJob:
    result = price_job(*args, **kwargs)
    assert isinstance(result, PricedJob)
    return result


def summary(job: PricedJob) -> list[tuple[str, int, int, int]]:
    return [(x.kind.value, x.quantity_milli, x.unit_price_minor, x.net_minor) for x in job.lines]


def test_a_p2_job_of_75_minutes_by_a_level_4_engineer():
    job = priced(facts(labour_entries=(labour(75),)), config())
    # Call-out P2 £80.00 + 1.25 h × £75.00 (level 4) = £173.75 net; VAT £16.00 + £18.75.
    assert summary(job) == [("call_out", 1000, 8000, 8000), ("labour", 1250, 7500, 9375)]
    assert sum(x.tax_minor for x in job.lines) == 3475


def test_every_line_names_the_events_it_was_priced_from():
    job = priced(
        facts(labour_entries=(labour(75, event_id="t1"),), materials=(material(),)), config()
    )
    call_out, work, part = job.lines
    assert call_out.source_event_ids == ("released-1", "outcome-1")
    assert work.source_event_ids == ("t1", "reg-tech-1")
    assert part.source_event_ids == ("mat-m1",)
    assert job.basis.price_book_entries == ("VALVE-15@1",)
    assert job.basis.technician_profile_event_ids == ("reg-tech-1",)


def test_the_rate_follows_the_engineers_grade_in_the_required_skill():
    apprentice = facts(labour_entries=(labour(60),), technicians=(technician(level=2),))
    assert summary(priced(apprentice, config()))[1] == ("labour", 1000, 5500, 5500)


def test_an_engineer_without_the_required_skill_is_charged_at_the_default_grade():
    job = facts(labour_entries=(labour(60),), required_skills=("hvac",))
    assert summary(priced(job, config()))[1] == ("labour", 1000, 6500, 6500)


def test_labour_is_rounded_up_to_the_quarter_hour():
    job = priced(facts(labour_entries=(labour(20),), priority=Priority.P1), config())
    assert summary(job)[1] == ("labour", 500, 7500, 3750)


def test_minutes_stated_at_completion_beyond_those_logged_are_billed_at_the_normal_rate():
    job = priced(facts(labour_entries=(labour(30, event_id="t1"),), labour_minutes=75), config())
    assert summary(job)[1] == ("labour", 1250, 7500, 9375)
    assert job.lines[1].source_event_ids == ("t1", "outcome-1", "reg-tech-1")


def test_saturday_work_is_out_of_hours():
    saturday = TUESDAY_10 + timedelta(days=4)
    job = priced(facts(labour_entries=(labour(60, start=saturday),)), config())
    assert summary(job)[1] == ("labour", 1000, 11250, 11250)


def test_work_across_six_pm_is_split_between_normal_and_out_of_hours():
    job = priced(
        facts(labour_entries=(labour(60, start=TUESDAY_10.replace(hour=17, minute=30)),)), config()
    )
    assert summary(job)[1:] == [("labour", 500, 7500, 3750), ("labour", 500, 11250, 5625)]


def test_business_hours_are_the_sites_local_time_across_daylight_saving():
    # 16:30–17:30 UTC on a July Tuesday is 17:30–18:30 in London (BST).
    july = datetime(2026, 7, 14, 16, 30, tzinfo=UTC)
    job = priced(facts(labour_entries=(labour(60, start=july),)), config())
    assert summary(job)[1:] == [("labour", 500, 7500, 3750), ("labour", 500, 11250, 5625)]


def test_work_outside_the_engineers_shift_is_overtime():
    shift = Shift(weekday=1, start="08:00", end="16:00")
    tech = technician(shifts=(shift,))
    job = facts(
        labour_entries=(labour(60, start=TUESDAY_10.replace(hour=15, minute=30)),),
        technicians=(tech,),
    )
    # 30 min normal + 30 min at £75.00 × 1.25 = £93.75/h → £46.875 → £46.88 (half up)
    assert summary(priced(job, config()))[1:] == [
        ("labour", 500, 7500, 3750),
        ("labour", 500, 9375, 4688),
    ]


def test_out_of_hours_wins_over_overtime_and_they_never_compound():
    tech = technician(shifts=(Shift(weekday=1, start="08:00", end="16:00"),))
    evening = TUESDAY_10.replace(hour=19)
    job = facts(labour_entries=(labour(60, start=evening),), technicians=(tech,))
    assert summary(priced(job, config()))[1] == ("labour", 1000, 11250, 11250)


def test_parts_are_priced_from_the_book_and_bought_in_parts_at_cost_plus_markup():
    parts = (
        material("VALVE-15", 2000),
        material(
            "WIDGET-X", 1000, source=MaterialSource.BOUGHT_IN, unit_cost_minor=1000, entry_id="m2"
        ),
    )
    job = priced(facts(labour_entries=(labour(60),), materials=parts), config())
    assert summary(job)[2:] == [("material", 2000, 1250, 2500), ("material", 1000, 1250, 1250)]


def test_a_cost_plus_book_entry_marks_up_the_book_cost():
    book = {
        "PUMP": PriceBookEntry(
            description="Pump", pricing="cost_plus", unit_cost_minor=9500, markup_bp=3000
        )
    }
    job = priced(
        facts(labour_entries=(labour(60),), materials=(material("PUMP"),)), config(book=book)
    )
    assert summary(job)[2] == ("material", 1000, 12350, 12350)


def test_a_book_entry_may_carry_its_own_tax_rate():
    book = {
        "INSUL": PriceBookEntry(
            description="Insulation", pricing="fixed", unit_price_minor=300, tax_rate_bp=0
        )
    }
    job = priced(
        facts(labour_entries=(labour(60),), materials=(material("INSUL"),)), config(book=book)
    )
    assert (job.lines[2].tax_rate_basis_points, job.lines[2].tax_minor) == (0, 0)


def test_a_part_with_no_price_and_no_cost_blocks_the_invoice():
    with pytest.raises(PricingBlockedError, match="MYSTERY"):
        price_job(facts(labour_entries=(labour(60),), materials=(material("MYSTERY"),)), config())


def test_a_part_corrected_to_zero_is_not_charged():
    gone = material(quantity_milli=0)
    job = priced(facts(labour_entries=(labour(60),), materials=(gone,)), config())
    assert [x.kind for x in job.lines] == [LineKind.CALL_OUT, LineKind.LABOUR]


def test_a_contract_can_include_labour_and_the_call_out():
    terms = ContractTerms(included_labour_minutes=60, call_out_included=True, payment_terms_days=14)
    job = priced(facts(labour_entries=(labour(75),), contract_id="c-1"), config(contract=terms))
    assert summary(job) == [("labour", 1000, 0, 0), ("labour", 250, 7500, 1875)]
    assert job.payment_terms_days == 14


def test_a_fixed_price_job_replaces_call_out_and_labour_but_not_parts():
    terms = ContractTerms(fixed_price_jobs={"boiler_service": FixedPrice(net_minor=12000)})
    job = priced(
        facts(labour_entries=(labour(150),), materials=(material(),), contract_id="c-1"),
        config(contract=terms),
    )
    assert summary(job) == [("fixed_price", 1000, 12000, 12000), ("material", 1000, 1250, 1250)]


def test_a_small_job_is_topped_up_to_the_minimum_charge():
    job = priced(facts(labour_entries=(labour(15),), priority=Priority.P4), config())
    assert summary(job) == [("labour", 250, 7500, 1875), ("minimum_charge", 1000, 7625, 7625)]


def test_a_job_the_contract_covers_entirely_is_not_topped_up():
    terms = ContractTerms(included_labour_minutes=60, call_out_included=True)
    job = priced(facts(labour_entries=(labour(30),), contract_id="c-1"), config(contract=terms))
    assert sum(x.net_minor for x in job.lines) == 0


def test_an_incomplete_visit_is_charged_only_for_the_reasons_the_terms_name():
    no_access = facts(labour_entries=(labour(15),), incomplete=IncompleteReason.NO_ACCESS)
    assert isinstance(price_job(no_access, config()), PricedJob)
    parts = facts(labour_entries=(labour(15),), incomplete=IncompleteReason.PARTS_UNAVAILABLE)
    assert isinstance(price_job(parts, config()), NotChargeable)


PARTY = Party("wo-1", "cust-1", "Deansgate Dental", "tech-1", None, "Europe/London")
starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)
entries = st.builds(
    lambda minutes, start, timed: labour(
        minutes, start=start if timed else None, event_id=f"t{minutes}{start}"
    ),
    st.integers(min_value=1, max_value=600),
    starts,
    st.booleans(),
)
parts = st.builds(
    lambda sku, qty, i: material(sku, qty, entry_id=f"m{i}"),
    st.sampled_from(["VALVE-15"]),
    st.integers(min_value=0, max_value=50_000),
    st.integers(),
)
contracts = st.one_of(
    st.none(),
    st.builds(
        ContractTerms,
        call_out_included=st.booleans(),
        included_labour_minutes=st.integers(min_value=0, max_value=240),
    ),
)


@settings(max_examples=200, deadline=None)
@given(
    priority=st.sampled_from(list(Priority)),
    labour_entries=st.lists(entries, max_size=5, unique_by=lambda e: e.event_id),
    materials=st.lists(parts, max_size=4, unique_by=lambda m: m.entry_id),
    level=st.integers(min_value=1, max_value=5),
    terms=contracts,
)
def test_any_priced_job_adds_up_never_goes_negative_and_credits_exactly(
    priority, labour_entries, materials, level, terms
):
    job_facts = facts(
        labour_entries=tuple(labour_entries),
        materials=tuple(materials),
        priority=priority,
        technicians=(technician(level=level),),
        contract_id="c-1" if terms else None,
    )
    first = priced(job_facts, config(contract=terms))
    assert priced(job_facts, config(contract=terms)) == first, "deterministic"
    invoice = build_invoice(
        first, PARTY, number=1, issued_at=job_facts.trigger.at, replaces_invoice_id=None
    )
    assert invoice.net_total_minor == sum(x.net_minor for x in invoice.lines)
    assert invoice.tax_total_minor == sum(x.tax_minor for x in invoice.lines)
    assert invoice.gross_total_minor == invoice.net_total_minor + invoice.tax_total_minor >= 0
    assert all(x.net_minor >= 0 and x.tax_minor >= 0 for x in invoice.lines)
    assert all(x.source_event_ids for x in invoice.lines)
    if invoice.net_total_minor > 0 and not (
        terms and (terms.call_out_included or terms.included_labour_minutes)
    ):
        assert invoice.net_total_minor >= CARD.minimum_charge_net_minor
    credit = build_credit_note(
        invoice, number=1, issued_at=invoice.issued_at, reason="r", replaced_by_invoice_id=None
    )
    assert (credit.net_total_minor, credit.tax_total_minor, credit.gross_total_minor) == (
        invoice.net_total_minor,
        invoice.tax_total_minor,
        invoice.gross_total_minor,
    )
    assert credit.lines == invoice.lines
