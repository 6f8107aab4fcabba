"""The day optimiser: re-solve a span of the plan with VROOM (pyvroom), keeping what is under way.

The live engine (insertion.py) answers each event moving as few jobs as possible; this one
is for a deliberate re-plan (the office's "optimise tomorrow", a nightly run), where jobs
may move freely. Frozen visits stay, and so does every visit of a technician period that
holds a dispatcher's forced visit. Each (technician, working period) becomes a vehicle
whose skills are the technician's skills plus the certifications valid on that day, so
eligibility is VROOM's own skills rule; priorities (P1 highest) decide who is left out
when there is not room for everyone. Where the technician's policy counts the drive home,
the vehicle ends at the home base within the shift (or its overtime), so VROOM plans the
drive home too; a hard respond-by closes the job's window (ADR 0085). A previously placed
job that VROOM leaves out is put back by the insertion engine; if that fails too the
original plan is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from jobstream.dispatch.domain.insertion import Engine
from jobstream.dispatch.domain.plan import Crew, JobSpec, Period, Plan, Visit
from jobstream.dispatch.domain.travel import Place, TravelModel

if TYPE_CHECKING:
    import vroom

VROOM_PRIORITY = {1: 100, 2: 40, 3: 15, 4: 5}
URGENT_SLA_PRIORITY = 2


@dataclass(frozen=True)
class Outcome:
    """The optimised plan, or the original with why it was kept."""

    plan: Plan
    kept_original: bool = False
    note: str = ""


def _vehicles(plan: Plan, span: tuple[int, int]) -> list[tuple[Crew, Period, int, Place]]:
    """(crew, period, free from, start place) for each period the optimiser may rearrange."""
    out = []
    for tech_id in sorted(plan.crews):
        crew = plan.crews[tech_id]
        route = plan.route(tech_id)
        for p in crew.periods:
            if p.overtime_end <= max(span[0], plan.now) or p.start >= span[1]:
                continue
            inside = [v for v in route if v.end > p.start and v.start < p.overtime_end]
            if any(v.forced for v in inside):
                continue
            free, place = max(p.start, plan.now), p.start_place
            for v in inside:
                if v.frozen:
                    free, place = max(free, v.end), plan.jobs[v.job_id].place
            if free < p.end:
                out.append((crew, p, free, place))
    return out


def optimise(
    plan: Plan,
    travel: TravelModel,
    span: tuple[int, int],
    *,
    exploration: int = 5,
    threads: int = 1,
    timeout_s: float | None = None,
) -> Outcome:
    """Re-solve every movable visit and waiting job whose time may fall within ``span``."""
    vehicles = _vehicles(plan, span)
    work, placed_before = _without_movable_visits(plan, vehicles)
    waiting = [
        j
        for j in plan.jobs.values()
        if work.visit_of(j.job_id) is None
        and j.earliest_start() < span[1]
        and j.latest_end() > max(span[0], plan.now)
    ]
    if not vehicles or not waiting:
        return Outcome(plan, True, "nothing to optimise")

    problem = _Problem(base=min(free for _, _, free, _ in vehicles))
    fleet = problem.add_vehicles(vehicles)
    jobs_by_id = problem.add_jobs(waiting)
    if not jobs_by_id:
        return Outcome(plan, True, "no waiting job fits its window")
    problem.set_travel(travel)
    limit = timedelta(seconds=timeout_s) if timeout_s is not None else None
    solution = problem.input.solve(exploration_level=exploration, nb_threads=threads, timeout=limit)
    routes = solution.routes
    for row in routes[routes["type"] == "job"].itertuples():
        crew, _period = fleet[int(row.vehicle_id)]
        job_id = jobs_by_id[int(row.id)]
        start = problem.base + (int(row.arrival) + int(row.waiting_time)) // 60
        job = plan.jobs[job_id]
        work.put(Visit(job_id, crew.technician_id, start, start + job.duration))
    engine = Engine(travel)
    for job_id in sorted(placed_before):
        if work.visit_of(job_id) is None:
            again, _ = engine.place(work, plan.jobs[job_id])
            if again.option is None:
                return Outcome(plan, True, f"optimiser would drop {job_id}; plan kept")
    return Outcome(work)


def _without_movable_visits(
    plan: Plan, vehicles: list[tuple[Crew, Period, int, Place]]
) -> tuple[Plan, set[str]]:
    """A copy of the plan without the visits the optimiser may move, and those visits' jobs."""
    movable_periods = {(c.technician_id, p.start) for c, p, _, _ in vehicles}
    work = plan.copy()
    placed_before: set[str] = set()
    for tech_id, route in work.routes.items():
        crew = plan.crews.get(tech_id)
        for v in list(route):
            period = crew.period_at(v.start) if crew else None
            if period and (tech_id, period.start) in movable_periods and not v.frozen:
                route.remove(v)
                placed_before.add(v.job_id)
    return work, placed_before


class _Problem:
    """The VROOM input being built: places and skills numbered, times in seconds from ``base``."""

    def __init__(self, *, base: int) -> None:
        """An empty problem whose time zero is ``base`` (plan minutes)."""
        import vroom  # here, not at start-up: it brings pandas and pyarrow (~80 MiB)

        self.base = base
        self.input = vroom.Input()
        self.places: dict[str, int] = {}
        self.points: list[Place] = []
        self.skill_ids: dict[str, int] = {}

    def index(self, place: Place) -> int:
        """The number of ``place`` in the durations matrix."""
        if place.key not in self.places:
            self.places[place.key] = len(self.points)
            self.points.append(place)
        return self.places[place.key]

    def skill(self, name: str) -> int:
        """The number of a skill or certification (VROOM's skills are integers)."""
        return self.skill_ids.setdefault(name, len(self.skill_ids) + 1)

    def window(self, opens: int, closes: int) -> vroom.TimeWindow:
        """A time window between two plan minutes."""
        import vroom

        return vroom.TimeWindow((opens - self.base) * 60, (closes - self.base) * 60)

    def add_vehicles(
        self, vehicles: list[tuple[Crew, Period, int, Place]]
    ) -> list[tuple[Crew, Period]]:
        """One vehicle per (technician, period): their skills and the certifications valid then."""
        import vroom

        fleet: list[tuple[Crew, Period]] = []
        for k, (crew, period, free, place) in enumerate(vehicles):
            skills = {self.skill(f"skill:{s}") for s in crew.skills}
            skills |= {
                self.skill(f"cert:{c}")
                for c, exp in crew.certifications.items()
                if exp >= period.local_date
            }
            home_by = crew.home_by(period)
            # VROOM's vehicle window bounds the arrival at ``end`` when there is one, else
            # the end of the last job: with the drive home counted, the route ends at home.
            # It cannot tell work from the drive home, so under IN_OVERTIME it may also
            # work into the overtime; the evaluator accepts both (overtime is working time).
            end = None if home_by is None else self.index(crew.home)
            closes = period.end if home_by is None else home_by
            self.input.add_vehicle(
                vroom.Vehicle(
                    k,
                    start=self.index(place),
                    end=end,
                    skills=skills,
                    time_window=self.window(free, max(free, closes)),
                )
            )
            fleet.append((crew, period))
        return fleet

    def add_jobs(self, waiting: list[JobSpec]) -> dict[int, str]:
        """The waiting jobs that fit their windows, by VROOM id."""
        import vroom

        jobs_by_id: dict[int, str] = {}
        for n, job in enumerate(sorted(waiting, key=lambda j: j.job_id)):
            opens = max(job.earliest_start(), self.base)
            closes = job.latest_end() - job.duration
            if closes < opens:
                continue
            if job.respond_by_is_hard:
                closes = min(closes, job.respond_by)
                if closes < opens:
                    continue
            elif job.priority <= URGENT_SLA_PRIORITY and opens <= job.respond_by < closes:
                # VROOM has no soft lateness: for urgent work the respond-by becomes the window,
                # and a job that cannot make it is put back (late) by the insertion engine.
                closes = job.respond_by
            needs = {self.skill(f"skill:{s}") for s in job.skills} | {
                self.skill(f"cert:{c}") for c in job.certifications
            }
            self.input.add_job(
                vroom.Job(
                    n,
                    location=self.index(job.place),
                    default_service=job.duration * 60,
                    skills=needs,
                    priority=VROOM_PRIORITY.get(job.priority, 0),
                    time_windows=[self.window(opens, closes)],
                )
            )
            jobs_by_id[n] = job.job_id
        return jobs_by_id

    def set_travel(self, travel: TravelModel) -> None:
        """The driving seconds between every two places numbered so far."""
        matrix = [[travel.minutes(a, b) * 60 for b in self.points] for a in self.points]
        self.input.set_durations_matrix(profile="car", matrix_input=matrix)
