"""Hard constraints a business means: the drive home, real deadlines, the day, absences."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

import pytest

from jobstream.contracts.common import GeoPoint, Priority, SkillLevel, TimeWindow
from jobstream.contracts.dispatch import Shift, TechnicianProfile
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.domain.decision import (
    UnqualifiedAssignmentError,
    assert_qualified,
    crew_of,
    job_spec,
    planned,
)
from jobstream.dispatch.domain.evaluator import DEADLINE, QUALIFICATION, TIME, violations
from jobstream.dispatch.domain.insertion import Engine
from jobstream.dispatch.domain.optimiser import optimise
from jobstream.dispatch.domain.plan import (
    DriveHome,
    JobSpec,
    Visit,
    to_deadline_minutes,
    to_minutes,
)
from jobstream.dispatch.domain.technicians import Absence
from jobstream.testing.builders import JobStory

from .planning import DAY, LIVERPOOL, MANCHESTER, STOCKPORT, TRAVEL, at, crew, job, plan, visit
from .test_decision import decision

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

# -- the drive home ---------------------------------------------------------------------


def _late_in_manchester(**policy: object):
    """A Liverpool-based technician (98 min away) and a job in Manchester by 16:30."""
    tech = crew("t1", home=LIVERPOOL, **policy)
    return plan([tech], [job("j1", window=(at(15), at(16, 30)))])


def test_a_job_whose_drive_home_overruns_the_shift_is_not_placed():
    p = _late_in_manchester()
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert placement.option is None


@pytest.mark.parametrize(
    ("policy", "overtime", "placed"),
    [
        (DriveHome.NOT_COUNTED, 0, True),
        (DriveHome.IN_SHIFT, 120, False),
        (DriveHome.IN_OVERTIME, 120, True),
        (DriveHome.IN_OVERTIME, 0, False),
    ],
)
def test_the_drive_home_fits_where_the_policy_says(policy, overtime, placed):
    p = _late_in_manchester(drive_home=policy, overtime=overtime)
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert (placement.option is not None) is placed
    assert violations(p, TRAVEL) == []


def test_pushing_a_visit_never_leaves_its_technician_unable_to_get_home():
    """A full day in Manchester, then Stockport (20 min from home) until 16:20."""
    busy = [visit(f"b{i}", "t1", at(8 + i)) for i in range(7)]
    last = visit("last", "t1", at(15, 20), 60)
    jobs = [job(f"b{i}") for i in range(7)] + [
        job("last", place=STOCKPORT),
        job("new", place=STOCKPORT, duration=30, window=(at(15, 20), at(16))),
    ]
    p = plan([crew("t1")], jobs, [*busy, last])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["new"])
    # Before "last" it would push that visit to 15:50–16:50: home at 17:10.
    assert placement.option is None


def test_a_late_start_that_leaves_no_drive_home_takes_the_last_visit_off():
    jobs = [job("a"), job("b", place=STOCKPORT, duration=30)]
    p = plan(
        [crew("t1")],
        jobs,
        [visit("a", "t1", at(15, 10), 60, frozen=True), visit("b", "t1", at(16), 30)],
    )
    # b would now run 16:30–17:00, inside the shift, but home only at 17:20.
    assert Engine(TRAVEL).repair(p, "t1") == ["b"]


def test_the_evaluator_finds_a_technician_who_cannot_get_home():
    p = plan([crew("t1", home=LIVERPOOL)], [job("j1")], [visit("j1", "t1", at(15, 30))])
    found = violations(p, TRAVEL)
    assert [v.kind for v in found] == [TIME]
    assert "home" in found[0]


def test_the_evaluator_ignores_the_drive_home_when_it_is_not_counted():
    tech = crew("t1", home=LIVERPOOL, drive_home=DriveHome.NOT_COUNTED)
    p = plan([tech], [job("j1")], [visit("j1", "t1", at(15, 30))])
    assert violations(p, TRAVEL) == []


def test_the_day_optimiser_brings_every_technician_home_in_time():
    jobs = [job(f"j{i}") for i in range(8)]
    p = plan([crew("t1", home=LIVERPOOL)], jobs)
    outcome = optimise(p, TRAVEL, (at(0), at(23, 59)), exploration=1)
    assert not outcome.kept_original
    assert violations(outcome.plan, TRAVEL) == []


# -- deadlines are never rounded later ---------------------------------------------------


def test_deadlines_round_down_and_starts_round_up():
    moment = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    assert to_deadline_minutes(moment) == at(10)
    assert to_minutes(moment) == at(10, 1)
    assert to_deadline_minutes(moment.replace(second=0)) == at(10)


def _p1_due_at_half_past_the_minute() -> tuple[JobSpec, datetime]:
    """P1, 90 min, window from 08:31:00: it cannot finish before 10:01; resolve-by 10:00:30."""
    story = JobStory(priority=Priority.P1, start=datetime(2026, 11, 23, 7, 0, tzinfo=UTC))
    deadline = datetime(2026, 11, 23, 10, 0, 30, tzinfo=UTC)
    window = TimeWindow(start=deadline - timedelta(minutes=89, seconds=30), end=NOON)
    details = story.details().model_copy(
        update={"resolve_by": deadline, "respond_by": deadline, "time_window": window}
    )
    return job_spec("wo-p1", details, at(8)), deadline


def test_a_p1_deadline_with_seconds_is_not_let_slip_to_the_next_minute():
    spec, _deadline = _p1_due_at_half_past_the_minute()
    p = plan([crew("t1")], [spec])
    placement, _ = Engine(TRAVEL).place(p, spec, bump=True)
    assert placement.option is None  # it could only end at 10:01, 30 s late


def test_the_evaluator_finds_a_visit_finishing_after_resolve_by():
    p = plan([crew("t1")], [job("j1", resolve=at(10))], [visit("j1", "t1", at(9, 30))])
    assert [v.kind for v in violations(p, TRAVEL)] == [DEADLINE]


def test_a_forced_visit_may_finish_after_resolve_by():
    late = replace(visit("j1", "t1", at(9, 30)), forced=True)
    p = plan([crew("t1")], [job("j1", resolve=at(10))], [late])
    assert violations(p, TRAVEL) == []


def test_a_hard_respond_by_is_never_planned_past():
    urgent = replace(job("j1", priority=1, respond=at(9)), respond_by_is_hard=True)
    p = plan([crew("t1", home=LIVERPOOL, drive_home=DriveHome.NOT_COUNTED)], [urgent])
    placement, _ = Engine(TRAVEL).place(p, urgent, bump=True)
    assert placement.option is None  # the earliest arrival from Liverpool is 09:38


def test_the_evaluator_finds_a_visit_starting_after_a_hard_respond_by():
    urgent = replace(job("j1", priority=1, respond=at(9)), respond_by_is_hard=True)
    p = plan([crew("t1")], [urgent], [visit("j1", "t1", at(9, 1))])
    assert [v.kind for v in violations(p, TRAVEL)] == [DEADLINE]


def test_a_soft_respond_by_is_weighed_not_checked():
    p = plan([crew("t1")], [job("j1", priority=1, respond=at(9))], [visit("j1", "t1", at(9, 1))])
    assert violations(p, TRAVEL) == []


def test_a_hard_respond_by_comes_from_the_priorities_the_business_names():
    details = JobStory(priority=Priority.P1).details()
    assert job_spec("wo", details, at(8), hard_respond_by=("P1",)).respond_by_is_hard
    assert not job_spec("wo", details, at(8), hard_respond_by=("P2",)).respond_by_is_hard
    assert not job_spec("wo", details, at(8)).respond_by_is_hard


# -- certifications valid on the technician's day ----------------------------------------


def test_a_certification_is_checked_on_the_technicians_local_day():
    """Forced at 23:30 UTC on the 23rd: 00:30 on the 24th in Berlin, a day after expiry."""
    tech = crew("t1", certs={"gas_safe": DAY}, time_zone="Europe/Berlin")
    late = replace(visit("j1", "t1", at(23, 30), 20), forced=True)
    p = plan([tech], [job("j1")], [late])
    found = violations(p, TRAVEL)
    assert [v.kind for v in found] == [QUALIFICATION]
    assert "2026-11-24" in found[0]


def test_an_event_never_names_a_technician_whose_certification_expired_that_local_day():
    tech = crew("tech-1", certs={"gas_safe": DAY}, time_zone="Europe/Berlin")
    made = decision()
    made.plan.crews["tech-1"] = tech
    with pytest.raises(UnqualifiedAssignmentError):
        assert_qualified(made, Visit("wo-a", "tech-1", at(23, 30), at(23, 50), forced=True))


def test_an_expired_certification_is_found_by_the_evaluator():
    tech = crew("t1", certs={"gas_safe": date(2026, 11, 22)})
    p = plan([tech], [job("j1")], [visit("j1", "t1", at(9))])
    assert [v.kind for v in violations(p, TRAVEL)] == [QUALIFICATION]


# -- absences ---------------------------------------------------------------------------


def _profile() -> TechnicianProfile:
    return TechnicianProfile(
        name="T One",
        skills=(SkillLevel(name="gas_boiler"),),
        home_base=GeoPoint(lat=MANCHESTER.lat, lon=MANCHESTER.lon),
        time_zone="Europe/London",
        shifts=(Shift(weekday=0, start=time(8), end=time(17)),),
    )


def test_an_absence_starting_mid_minute_is_not_worked_into():
    away = Absence("a1", NOON + timedelta(seconds=30), NOON + timedelta(hours=2), "dentist")
    row = {"technician_id": "t1", "profile": _profile(), "lat": None}
    tech = crew_of(row, [away], NOON - timedelta(hours=4), timedelta(days=1))
    tech = replace(tech, certifications={"gas_safe": date(2030, 1, 1)})
    assert tech.absences == ((at(12), at(14)),)
    j = job("j1", window=(at(11, 1), at(13)))
    p = plan([tech], [j])
    placement, _ = Engine(TRAVEL).place(p, j)
    # 11:01–12:01 would run 30 s into the absence.
    assert placement.option is None


def test_the_evaluator_finds_a_visit_during_an_absence():
    """The periods were not cut for the absence: the evaluator still sees it."""
    tech = crew("t1", absences=((at(12), at(14)),))
    p = plan([tech], [job("j1")], [visit("j1", "t1", at(12, 30))])
    found = violations(p, TRAVEL)
    assert [v.kind for v in found] == [TIME]
    assert "absen" in found[0]


def test_a_visit_beside_an_absence_is_fine():
    tech = crew("t1", absences=((at(12), at(14)),))
    p = plan([tech], [job("j1")], [visit("j1", "t1", at(11))])
    assert violations(p, TRAVEL) == []


# -- the business's settings reach the plan ------------------------------------------------


def test_the_business_settings_choose_the_drive_home_and_the_hard_respond_by(monkeypatch):
    monkeypatch.setenv("DISPATCH_DRIVE_HOME", "in_shift")
    monkeypatch.setenv("DISPATCH_HARD_RESPOND_BY_PRIORITIES", '["P1"]')
    settings = DispatchSettings()
    details = JobStory(priority=Priority.P1).details()
    decided = planned(
        settings=settings,
        now=datetime.combine(DAY, time(7), tzinfo=UTC),
        technicians=[
            {
                "technician_id": "tech-1",
                "name": "T One",
                "active": True,
                "profile": _profile(),
            }
        ],
        absences=[],
        work_orders={"wo-1": {"details": details}},
        schedule={},
        site_technicians={},
    )
    assert decided.plan.crews["tech-1"].drive_home is DriveHome.IN_SHIFT
    assert decided.plan.jobs["wo-1"].respond_by_is_hard


def test_a_technicians_own_drive_home_rule_overrides_the_business_one():
    own = _profile().model_copy(update={"drive_home": DriveHome.NOT_COUNTED})
    decided = planned(
        settings=DispatchSettings(drive_home=DriveHome.IN_SHIFT),
        now=datetime.combine(DAY, time(7), tzinfo=UTC),
        technicians=[
            {"technician_id": tid, "name": tid, "active": True, "profile": profile}
            for tid, profile in (("tech-own", own), ("tech-default", _profile()))
        ],
        absences=[],
        work_orders={},
        schedule={},
        site_technicians={},
    )
    assert decided.plan.crews["tech-own"].drive_home is DriveHome.NOT_COUNTED
    assert decided.plan.crews["tech-default"].drive_home is DriveHome.IN_SHIFT


def test_by_default_the_drive_home_fits_in_overtime_and_no_respond_by_is_hard():
    settings = DispatchSettings()
    assert settings.drive_home is DriveHome.IN_OVERTIME
    assert settings.hard_respond_by_priorities == ()
