"""The live engine: qualified only, hard constraints kept, few jobs moved, urgent first."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from jobstream.dispatch.domain.evaluator import violations
from jobstream.dispatch.domain.insertion import Engine
from jobstream.dispatch.domain.plan import DriveHome

from .planning import (
    DAY,
    LIVERPOOL,
    MANCHESTER,
    SALFORD,
    STOCKPORT,
    TRAVEL,
    at,
    crew,
    job,
    plan,
    visit,
)


def test_nobody_qualified_fails_with_that_reason():
    p = plan([crew("t1", skills=("electrical",))], [job("j1")])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert placement.option is None
    assert placement.failure == "no_qualified_technician"
    assert placement.considered[0].reason == "lacks skill gas_boiler"


def test_an_expired_certification_excludes_a_technician():
    expired = crew("near", certs={"gas_safe": date(2026, 11, 22)}, home=MANCHESTER)
    valid = crew("far", home=LIVERPOOL)
    p = plan([expired, valid], [job("j1")])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert placement.option is not None and placement.option.technician_id == "far"
    near = next(a for a in placement.considered if a.technician_id == "near")
    assert not near.eligible and "expired on 2026-11-22" in near.reason


def test_a_certification_is_valid_on_its_expiry_day():
    p = plan([crew("t1", certs={"gas_safe": DAY})], [job("j1")])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert placement.option is not None


def test_the_customer_window_is_kept():
    p = plan([crew("t1")], [job("j1", window=(at(13), at(15)))])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["j1"])
    assert placement.option is not None
    assert at(13) <= placement.option.start and placement.option.end <= at(15)


def test_no_capacity_before_the_deadline_fails():
    busy = [visit(f"b{i}", "t1", at(8 + i), 60) for i in range(9)]
    jobs = [job(f"b{i}", priority=2) for i in range(9)] + [job("late", resolve=at(17))]
    p = plan([crew("t1")], jobs, busy)
    placement, _ = Engine(TRAVEL).place(p, p.jobs["late"])
    assert placement.option is None
    assert placement.failure == "no_capacity_before_deadline"


def test_a_gap_is_used_before_anything_is_moved():
    jobs = [job("a"), job("b"), job("new", place=SALFORD)]
    p = plan([crew("t1")], jobs, [visit("a", "t1", at(9)), visit("b", "t1", at(13))])
    placement, _ = Engine(TRAVEL).place(p, p.jobs["new"])
    assert placement.option is not None
    assert placement.option.pushed == () and placement.option.bumped == ()
    assert at(10) <= placement.option.start < at(13)


def test_urgent_job_goes_to_the_engineer_finishing_nearby_and_moves_few():
    """Logged 9:00 in Manchester; an engineer finishes a nearby job at 10:00."""
    nine = at(9)
    crews = [crew("nearby", home=SALFORD), crew("far", home=LIVERPOOL)]
    jobs = [
        job("current", place=SALFORD, priority=3),
        job("routine", place=SALFORD, priority=4, resolve=at(17)),
        job("far-1", place=LIVERPOOL, priority=3),
        job("p1", place=MANCHESTER, priority=1, release=nine, respond=at(10), resolve=at(13)),
    ]
    visits = [
        visit("current", "nearby", at(9), 60, frozen=True),
        visit("routine", "nearby", at(10, 15), 6 * 60),
        visit("far-1", "far", at(9), 120, frozen=True),
    ]
    p = plan(crews, jobs, visits, now=nine)
    placement, replaced = Engine(TRAVEL).place(p, p.jobs["p1"], bump=True)
    option = placement.option
    assert option is not None and option.technician_id == "nearby"
    assert at(10) <= option.start <= at(10, 15)
    # The routine job could not be pushed within its shift, so it was bumped and re-placed.
    assert option.bumped == ("routine",)
    assert replaced["routine"].option is not None
    assert violations(p, TRAVEL) == []


def test_a_routine_job_never_bumps_another():
    busy = [visit(f"b{i}", "t1", at(8 + i), 60) for i in range(9)]
    jobs = [job(f"b{i}", priority=4) for i in range(9)] + [job("new", priority=3, resolve=at(17))]
    p = plan([crew("t1")], jobs, busy)
    placement, _ = Engine(TRAVEL).place(p, p.jobs["new"], bump=False)
    assert placement.option is None


def test_a_late_start_pushes_the_rest_of_the_day():
    jobs = [job("a"), job("b"), job("c")]
    p = plan(
        [crew("t1")],
        jobs,
        [
            visit("a", "t1", at(10), 60, frozen=True),
            visit("b", "t1", at(11)),
            visit("c", "t1", at(15)),
        ],
    )
    p.remove("a")
    p.put(visit("a", "t1", at(10, 40), 60, frozen=True))
    removed = Engine(TRAVEL).repair(p, "t1")
    assert removed == []
    b = p.visit_of("b")
    c = p.visit_of("c")
    assert b is not None and b.start == at(11, 40)
    assert c is not None and c.start == at(15)
    assert violations(p, TRAVEL) == []


PLACES = [MANCHESTER, SALFORD, STOCKPORT, LIVERPOOL]
SKILLS = ["gas_boiler", "plumbing", "electrical"]


@st.composite
def scenarios(draw):
    crews = []
    for i in range(draw(st.integers(1, 4))):
        skills = draw(st.sets(st.sampled_from(SKILLS), min_size=1))
        expiry = draw(st.sampled_from([date(2026, 11, 22), DAY, date(2027, 1, 1)]))
        certs = {"gas_safe": expiry} if draw(st.booleans()) else {}
        crews.append(
            crew(
                f"t{i}",
                skills=tuple(sorted(skills)),
                certs=certs,
                home=draw(st.sampled_from(PLACES)),
                start=draw(st.integers(6, 10)),
                end=draw(st.integers(14, 20)),
                overtime=draw(st.sampled_from([0, 0, 45, 120])),
                drive_home=draw(st.sampled_from(list(DriveHome))),
            )
        )
    jobs = []
    for i in range(draw(st.integers(1, 14))):
        skill = draw(st.sampled_from(SKILLS))
        window = None
        if draw(st.booleans()):
            opens = at(draw(st.integers(7, 15)))
            window = (opens, opens + draw(st.integers(2, 5)) * 60)
        jobs.append(
            job(
                f"j{i}",
                place=draw(st.sampled_from(PLACES)),
                priority=draw(st.integers(1, 4)),
                duration=draw(st.integers(15, 240)),
                window=window,
                skills=(skill,),
                certs=("gas_safe",) if skill == "gas_boiler" else (),
                resolve=at(draw(st.integers(10, 20))),
            )
        )
    return crews, jobs


@settings(max_examples=150, deadline=None)
@given(scenarios())
def test_property_every_plan_keeps_every_hard_constraint(scenario):
    crews, jobs = scenario
    p = plan(crews, jobs)
    engine = Engine(TRAVEL)
    for j in sorted(jobs, key=lambda j: (j.priority, j.job_id)):
        engine.place(p, j, bump=j.priority == 1)
    assert violations(p, TRAVEL) == []
    for tech_id, visits in p.routes.items():
        c = p.crews[tech_id]
        for v in visits:
            j = p.jobs[v.job_id]
            assert j.skills <= c.skills, "a job went to a technician without its skill"
            for cert in j.certifications:
                assert cert in c.certifications and c.certifications[cert] >= DAY


@settings(max_examples=40, deadline=None)
@given(scenarios())
def test_property_the_day_optimiser_keeps_every_hard_constraint(scenario):
    from jobstream.dispatch.domain.optimiser import optimise

    crews, jobs = scenario
    p = plan(crews, jobs)
    outcome = optimise(p, TRAVEL, (at(0), at(23, 59)), exploration=1)
    assert violations(outcome.plan, TRAVEL) == []


def test_the_day_optimiser_places_what_insertion_placed_and_never_worse():
    from jobstream.dispatch.domain.optimiser import optimise

    crews = [crew("t1", home=SALFORD), crew("t2", home=STOCKPORT)]
    jobs = [job(f"j{i}", place=[SALFORD, STOCKPORT, MANCHESTER][i % 3]) for i in range(10)]
    p = plan(crews, jobs)
    engine = Engine(TRAVEL)
    for j in jobs:
        engine.place(p, j)
    placed = {v.job_id for r in p.routes.values() for v in r}
    outcome = optimise(p, TRAVEL, (at(0), at(23, 59)))
    assert {v.job_id for r in outcome.plan.routes.values() for v in r} >= placed
    assert violations(outcome.plan, TRAVEL) == []
