"""Plan recurrences and the ids that make raising idempotent."""

from datetime import date

import pytest

from jobstream.intake.domain.maintenance import (
    Recurrence,
    follow_up_work_order_id,
    is_due,
    next_service_plan_id,
    occurrence_work_order_id,
)
from jobstream.intake.domain.work_order import DomainError


def test_every_twelve_months():
    plan = Recurrence(date(2026, 3, 1), every_months=12)
    assert plan.first() == date(2026, 3, 1)
    assert plan.after(date(2026, 3, 1)) == date(2027, 3, 1)


def test_month_ends_do_not_drift():
    plan = Recurrence(date(2026, 1, 31), every_months=1)
    assert plan.after(date(2026, 1, 31)) == date(2026, 2, 28)
    assert plan.after(date(2026, 2, 28)) == date(2026, 3, 31)


def test_an_rrule_first_monday_of_march_and_september():
    plan = Recurrence(date(2026, 1, 1), rule="FREQ=YEARLY;BYMONTH=3,9;BYDAY=1MO")
    assert plan.first() == date(2026, 3, 2)
    assert plan.after(date(2026, 3, 2)) == date(2026, 9, 7)


def test_a_bad_rule_names_the_field():
    with pytest.raises(DomainError) as err:
        Recurrence(date(2026, 1, 1), rule="FREQ=SOMETIMES")
    assert err.value.field == "rule"


def test_a_one_off_plan_has_no_next_occurrence():
    assert Recurrence(date(2026, 1, 1)).after(date(2026, 1, 1)) is None


def test_due_within_the_lead_time():
    assert is_due(date(2026, 3, 14), 14, date(2026, 2, 28))
    assert not is_due(date(2026, 3, 15), 14, date(2026, 2, 28))
    assert not is_due(None, 14, date(2026, 2, 28))


def test_ids_are_derived_and_stable():
    assert occurrence_work_order_id("p1", date(2026, 3, 1)) == occurrence_work_order_id(
        "p1", date(2026, 3, 1)
    )
    assert occurrence_work_order_id("p1", date(2026, 3, 1)) != occurrence_work_order_id(
        "p1", date(2027, 3, 1)
    )
    assert follow_up_work_order_id("e1") != follow_up_work_order_id("e2")
    assert next_service_plan_id("s1", None, "boiler_service").startswith("plan-")
