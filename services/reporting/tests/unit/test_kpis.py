"""Every KPI of the hand-computed week (tests/conftest.py), from the pure folds."""

import pytest

from jobstream.reporting.domain import kpis
from jobstream.reporting.projections import fold_job, fold_technician, log_values

KPI_NAMES = [
    "backlog",
    "completion_to_invoice",
    "customer_satisfaction",
    "first_time_fix",
    "parts_usage",
    "repeat_visits",
    "revenue",
    "sla_resolve",
    "sla_respond",
    "technicians",
    "time_to_arrive",
    "time_to_complete",
    "time_to_schedule",
]


def fold_all(envelopes):
    grouped: dict[tuple[str, str], list] = {}
    for row in (log_values(e) for e in envelopes):
        kind = "technician" if row["topic"] == "technicians" else "job"
        grouped.setdefault((kind, row["subject"]), []).append(row)
    jobs = [fold_job(s, rows) for (k, s), rows in grouped.items() if k == "job"]
    techs = {s: fold_technician(s, rows) for (k, s), rows in grouped.items() if k == "technician"}
    return jobs, techs


def compute(week, week_period, **kw):
    start, end, now = week_period
    jobs, techs = fold_all(week.envelopes())
    period = kpis.Period(start.timestamp(), end.timestamp(), now.timestamp())
    return kpis.compute(jobs, techs, period, **kw)


@pytest.mark.parametrize("name", KPI_NAMES)
def test_each_kpi_matches_the_hand_computed_week(name, week, week_period, expected, same):
    assert same(compute(week, week_period)[name], expected[name])


def test_every_kpi_is_checked(week, week_period, expected):
    computed = set(compute(week, week_period)) - {"period", "group_by", "definition"}
    assert computed == set(KPI_NAMES) == set(expected)


def test_first_time_fix_by_technician(week, week_period):
    result = compute(week, week_period, group_by=kpis.GroupBy.TECHNICIAN)["first_time_fix"]
    assert result == {
        week.tech_a: {"completed": 2, "fixed": 1, "provisional": 1, "rate": 0.5},
        week.tech_b: {"completed": 1, "fixed": 0, "provisional": 0, "rate": 0.0},
    }


def test_a_fourteen_day_window_still_sees_the_callback_after_seven_days(week, week_period):
    definition = kpis.Definition(ftf_window_days=14)
    result = compute(week, week_period, definition=definition)["first_time_fix"]["all"]
    assert (result["fixed"], result["completed"]) == (1, 3)


def test_a_five_day_window_no_longer_counts_the_callback(week, week_period):
    # J4 was logged 6 days 20 h after J3's completion.
    definition = kpis.Definition(ftf_window_days=5)
    result = compute(week, week_period, definition=definition)["first_time_fix"]["all"]
    assert (result["fixed"], result["completed"]) == (2, 3)


def test_ignoring_the_technicians_flags_changes_nothing_when_visits_already_tell(week, week_period):
    definition = kpis.Definition(ftf_trust_technician_flags=False)
    result = compute(week, week_period, definition=definition)["first_time_fix"]["all"]
    assert result["fixed"] == 1  # J2 still took two visits


def test_sla_by_priority_uses_the_priority_in_force(week, week_period):
    result = compute(week, week_period, group_by=kpis.GroupBy.PRIORITY)["sla_respond"]
    assert result == {
        "P1": {"met": 0, "breached": 2, "pending": 0, "rate": 0.0},  # J2, J7
        "P2": {"met": 2, "breached": 0, "pending": 0, "rate": 1.0},  # J1, J3 (raised)
        "P4": {"met": 0, "breached": 1, "pending": 0, "rate": 0.0},  # J5
    }


def test_revenue_by_technician_is_net_of_credit_notes(week, week_period):
    result = compute(week, week_period, group_by=kpis.GroupBy.TECHNICIAN)["revenue"]
    assert result == {
        week.tech_a: {
            "GBP": {"invoiced_net_minor": 30_000, "credited_net_minor": 5_000, "net_minor": 25_000}
        },
        # J3's invoice names no technician: it goes to the one who completed the job.
        week.tech_b: {
            "GBP": {"invoiced_net_minor": 7_000, "credited_net_minor": 0, "net_minor": 7_000}
        },
    }


def test_customer_satisfaction_by_technician_follows_the_rating_else_the_job(week, week_period):
    result = compute(week, week_period, group_by=kpis.GroupBy.TECHNICIAN)
    assert result["customer_satisfaction"] == {
        # J1 5 and J2 2, both naming tech A.
        week.tech_a: {"ratings": 2, "mean_score": 3.5, "satisfied": 1, "rate": 0.5},
        # J3's rating names nobody: it counts for tech B, who completed the job.
        week.tech_b: {"ratings": 1, "mean_score": 4.0, "satisfied": 1, "rate": 1.0},
    }


def test_customer_satisfaction_by_customer_and_job_type(week, week_period):
    by_customer = compute(week, week_period, group_by=kpis.GroupBy.CUSTOMER)
    assert by_customer["customer_satisfaction"] == {
        f"c1-{week.run}": {"ratings": 2, "mean_score": 3.5, "satisfied": 1, "rate": 0.5},
        f"c2-{week.run}": {"ratings": 1, "mean_score": 4.0, "satisfied": 1, "rate": 1.0},
    }
    by_type = compute(week, week_period, group_by=kpis.GroupBy.JOB_TYPE)
    assert by_type["customer_satisfaction"] == {
        "boiler_service": {"ratings": 2, "mean_score": 4.5, "satisfied": 2, "rate": 1.0},
        "leak_repair": {"ratings": 1, "mean_score": 2.0, "satisfied": 0, "rate": 0.0},
    }


def test_a_priority_lowered_after_the_deadline_passed_cannot_undo_the_breach():
    job = {"deadlines": [[0.0, 100.0, 200.0], [150.0, 400.0, 500.0]]}
    assert kpis.effective_deadline(job, 1, met_at=300.0) == 100.0


def test_a_priority_raised_before_the_response_tightens_the_deadline():
    job = {"deadlines": [[0.0, 100.0, 200.0], [50.0, 60.0, 120.0]]}
    assert kpis.effective_deadline(job, 1, met_at=70.0) == 60.0


def test_a_change_after_the_response_does_not_move_the_deadline():
    job = {"deadlines": [[0.0, 100.0, 200.0], [80.0, 60.0, 120.0]]}
    assert kpis.effective_deadline(job, 1, met_at=70.0) == 100.0


def test_p90_is_the_nearest_rank():
    assert kpis.p90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9
    assert kpis.p90([5]) == 5
    assert kpis.p90([]) is None
