"""The live engine: place a job in the current plan moving as few others as possible.

Appointments are kept: a placed visit never moves earlier on its own, and moves later only
when a job inserted before it leaves no time ("pushed"). An urgent job may also displace
("bump") lower-priority visits, which are then placed again elsewhere, or unscheduled.
Every pushed or bumped visit counts as a move, and a move costs more than any travel
saving, so the engine prefers gaps, then the end of a day, then pushing, then bumping.
Everything is deterministic: ties break on technician id and start time. The hard rules
of ADR 0022 and 0085 hold for every option: the drive home fits where the technician's
policy says, and a hard respond-by is never passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from jobstream.dispatch.domain.plan import Crew, JobSpec, Period, Plan, Visit, to_datetime
from jobstream.dispatch.domain.travel import Place, TravelModel


@dataclass(frozen=True)
class Weights:
    """What the engine weighs, in cost units (one unit ≈ one minute of driving)."""

    move: float = 1000.0
    late_per_minute: Mapping[int, float] = field(
        default_factory=lambda: {1: 50.0, 2: 10.0, 3: 2.0, 4: 1.0}
    )
    travel_per_minute: float = 1.0
    delay_per_minute: float = 0.02
    overtime_per_minute: float = 2.0
    load_per_minute: float = 0.05
    same_technician_at_site: float = 30.0


@dataclass(frozen=True)
class Option:
    """One feasible way to place a job."""

    cost: float
    technician_id: str
    start: int
    end: int
    eta: int
    travel_minutes: int
    travel_km: float
    pushed: tuple[Visit, ...] = ()
    bumped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class KnockOn:
    """What inserting a job does to the visits after it, and the lateness that adds."""

    pushed: tuple[Visit, ...]
    bumped: tuple[str, ...]
    extra_late: float


@dataclass(frozen=True)
class Assessment:
    """How one technician fared for a job."""

    technician_id: str
    eligible: bool
    reason: str
    travel_minutes: int | None = None


@dataclass
class Placement:
    """The outcome of placing one job: the option taken (if any) and what was weighed."""

    job_id: str
    option: Option | None
    considered: list[Assessment]
    qualified: int
    failure: str | None = None
    detail: str = ""


class Engine:
    """Places jobs into a plan; one instance per decision (its travel cache is per plan)."""

    def __init__(
        self,
        travel: TravelModel,
        weights: Weights | None = None,
        site_technicians: Mapping[str, frozenset[str]] | None = None,
        deadline_is_hard: bool = True,
    ) -> None:
        """An engine on ``travel``; unless ``deadline_is_hard``, a job may end after resolve-by."""
        self.travel = travel
        self.weights = weights or Weights()
        self.site_technicians = site_technicians or {}
        self.deadline_is_hard = deadline_is_hard
        self._minutes = lru_cache(maxsize=200_000)(self._minutes_uncached)

    def _minutes_uncached(self, a: Place, b: Place) -> int:
        return self.travel.minutes(a, b)

    def minutes(self, a: Place, b: Place) -> int:
        """Cached driving minutes."""
        return self._minutes(a, b)

    # -- one period -----------------------------------------------------------------------

    def _period_visits(self, plan: Plan, crew: Crew, period: Period) -> list[Visit]:
        return [
            v
            for v in plan.route(crew.technician_id)
            if v.end > period.start and v.start < period.overtime_end
        ]

    def _options_in_period(
        self, plan: Plan, crew: Crew, period: Period, job: JobSpec, bump: bool
    ) -> list[Option]:
        w = self.weights
        visits = self._period_visits(plan, crew, period)
        latest_end = min(job.latest_end(self.deadline_is_hard), period.overtime_end)
        latest_start = job.latest_start()
        earliest = job.earliest_start()
        home_by = crew.home_by(period)
        home = None if home_by is None else (crew.home, home_by)
        options: list[Option] = []
        t = max(period.start, plan.now)
        at = period.start_place
        last_frozen = max(
            (i for i, v in enumerate(visits) if v.frozen or v.start < plan.now), default=-1
        )
        load = sum(v.end - v.start for v in visits)
        for p in range(len(visits) + 1):
            if p > 0:
                prev = visits[p - 1]
                t, at = max(t, prev.end), plan.jobs[prev.job_id].place
            if p <= last_frozen:
                continue
            if t > latest_end:
                break
            leg = self.minutes(at, job.place)
            eta = t + leg
            start = max(eta, earliest)
            end = start + job.duration
            if end > latest_end or (latest_start is not None and start > latest_start):
                continue
            after = visits[p:]
            knock = self._knock_on(plan, period, job, end, after, bump, home)
            if knock is None:
                continue
            added = self._added_travel(plan, job, at, leg, after, knock.bumped)
            late = max(0, start - job.respond_by)
            overtime = max(0, end - period.end)
            cost = (
                w.move * (len(knock.pushed) + len(knock.bumped))
                + w.late_per_minute.get(job.priority, 1.0) * late
                + knock.extra_late
                + w.travel_per_minute * added
                + w.delay_per_minute * (start - earliest)
                + w.overtime_per_minute * overtime
                + w.load_per_minute * load
            )
            if crew.technician_id in self.site_technicians.get(job.site_id, frozenset()):
                cost -= w.same_technician_at_site
            options.append(
                Option(
                    cost=cost,
                    technician_id=crew.technician_id,
                    start=start,
                    end=end,
                    eta=eta,
                    travel_minutes=leg,
                    travel_km=round(self.travel.km(at, job.place), 2),
                    pushed=knock.pushed,
                    bumped=knock.bumped,
                )
            )
        return options

    def _knock_on(
        self,
        plan: Plan,
        period: Period,
        job: JobSpec,
        end: int,
        after: list[Visit],
        bump: bool,
        home: tuple[Place, int] | None,
    ) -> KnockOn | None:
        """What ``job``, ending at ``end`` just before ``after``, does to those visits.

        Each one it reaches is pushed later if it may move and still fits, or bumped if
        ``bump`` and it has a lower priority; None when one can be neither, or when the
        period's last visit then leaves no time to drive ``home`` (place, by when).
        """
        w = self.weights
        pushed: list[Visit] = []
        bumped: list[str] = []
        extra_late = 0.0
        clock, here = end, job.place
        for v in after:
            vjob = plan.jobs[v.job_id]
            arrive = clock + self.minutes(here, vjob.place)
            if arrive <= v.start:
                break  # this visit keeps its appointment, and so do the ones after it
            new_end = arrive + (v.end - v.start)
            limit = min(vjob.latest_end(self.deadline_is_hard), period.overtime_end)
            respond = vjob.latest_start()
            movable = not (v.frozen or v.forced)
            if movable and new_end <= limit and (respond is None or arrive <= respond):
                pushed.append(Visit(v.job_id, v.technician_id, arrive, new_end))
                rate = w.late_per_minute.get(vjob.priority, 1.0)
                extra_late += rate * (
                    max(0, arrive - vjob.respond_by) - max(0, v.start - vjob.respond_by)
                )
                clock, here = new_end, vjob.place
            elif bump and movable and vjob.priority > job.priority:
                bumped.append(v.job_id)
            else:
                return None
        else:
            # Every visit after it moved or went: the last one kept must still get home.
            if home is not None and clock + self.minutes(here, home[0]) > home[1]:
                return None
        return KnockOn(tuple(pushed), tuple(bumped), extra_late)

    def _added_travel(
        self,
        plan: Plan,
        job: JobSpec,
        at: Place,
        leg: int,
        after: list[Visit],
        bumped: tuple[str, ...],
    ) -> int:
        """The driving ``job`` adds: ``leg`` from ``at``, then on to the next visit kept.

        Less the drive from ``at`` to that visit, which it replaces.
        """
        nxt = next((v for v in after if v.job_id not in bumped), None)
        if nxt is None:
            return leg
        nplace = plan.jobs[nxt.job_id].place
        return leg + self.minutes(job.place, nplace) - self.minutes(at, nplace)

    # -- one job --------------------------------------------------------------------------

    def options(self, plan: Plan, job: JobSpec, bump: bool = False) -> Placement:
        """Every feasible option for ``job``, best first in ``option``, with assessments."""
        considered: list[Assessment] = []
        best: Option | None = None
        qualified = 0
        for tech_id in sorted(plan.crews):
            assessment, counted, mine = self._assess(plan, tech_id, job, bump)
            considered.append(assessment)
            qualified += counted
            if mine is None:
                continue
            if best is None or (mine.cost, mine.technician_id) < (best.cost, best.technician_id):
                best = mine
        placement = Placement(job.job_id, best, considered, qualified)
        if best is None:
            placement.failure, placement.detail = _failure(job, qualified)
        return placement

    def _assess(
        self, plan: Plan, tech_id: str, job: JobSpec, bump: bool
    ) -> tuple[Assessment, bool, Option | None]:
        """How one technician fares for ``job``: whether they count as qualified, their best."""
        crew = plan.crews[tech_id]
        earliest, latest = job.earliest_start(), job.latest_end(self.deadline_is_hard)
        relevant = [
            p for p in crew.periods if p.overtime_end > max(earliest, plan.now) and p.start < latest
        ]
        reasons = {crew.disqualification(job, p.local_date) for p in relevant}
        if not relevant:
            reasons = {crew.disqualification(job, to_datetime(earliest).date())}
            why = next(iter(reasons)) or "no working time before the deadline"
            return Assessment(tech_id, why is None, why), reasons == {None}, None
        if None not in reasons:
            why = sorted(r for r in reasons if r)[0]
            return Assessment(tech_id, False, why), False, None
        mine = self._best_in(plan, crew, job, relevant, bump)
        if mine is None:
            return Assessment(tech_id, True, "no free time before the deadline"), True, None
        could = f"could start {to_datetime(mine.start):%a %H:%M} UTC, cost {mine.cost:.0f}"
        return Assessment(tech_id, True, could, mine.travel_minutes), True, mine

    def _best_in(
        self, plan: Plan, crew: Crew, job: JobSpec, periods: list[Period], bump: bool
    ) -> Option | None:
        """The technician's cheapest option for ``job`` in the periods they qualify on."""
        mine: Option | None = None
        for period in periods:
            if crew.disqualification(job, period.local_date) is not None:
                continue
            for o in self._options_in_period(plan, crew, period, job, bump):
                if mine is None or (o.cost, o.start) < (mine.cost, mine.start):
                    mine = o
        return mine

    def apply(self, plan: Plan, option: Option, job_id: str) -> None:
        """Put the job where ``option`` says, pushing and bumping as it says."""
        for jid in option.bumped:
            plan.remove(jid)
        for v in option.pushed:
            plan.remove(v.job_id)
            plan.put(v)
        plan.put(Visit(job_id, option.technician_id, option.start, option.end))

    def place(
        self, plan: Plan, job: JobSpec, bump: bool = False
    ) -> tuple[Placement, dict[str, Placement]]:
        """Place ``job`` (and re-place what it bumped, without bumping); mutates ``plan``.

        Returns the job's placement and the placements of the bumped jobs.
        """
        placement = self.options(plan, job, bump)
        replaced: dict[str, Placement] = {}
        if placement.option is None:
            return placement, replaced
        self.apply(plan, placement.option, job.job_id)
        for jid in placement.option.bumped:
            again = self.options(plan, plan.jobs[jid], bump=False)
            if again.option is not None:
                self.apply(plan, again.option, jid)
            replaced[jid] = again
        return placement, replaced

    # -- repairs --------------------------------------------------------------------------

    def repair(self, plan: Plan, technician_id: str) -> list[str]:
        """Re-time a technician's route after reality changed; the ids taken off.

        Reality: a late start, a lost shift, a lost skill. Visits that no longer fit are
        pushed, and those that cannot be kept at all taken off (for the caller to place
        again), the last ones of a period first when the drive home no longer fits.
        """
        crew = plan.crews.get(technician_id)
        route = plan.route(technician_id)
        removed: list[str] = []
        keep: list[Visit] = []
        if crew is None:
            removed = [v.job_id for v in route if not v.frozen]
            plan.routes[technician_id] = [v for v in route if v.frozen]
            return removed
        clock: int | None = None
        here: Place | None = None
        current: Period | None = None

        # A visit that should have started but has not comes after the work under way.
        def order(x: Visit) -> tuple[int, bool, str]:
            due = x.start if (x.frozen or x.forced) else max(x.start, plan.now)
            return due, not (x.frozen or x.forced), x.job_id

        for v in sorted(route, key=order):
            job = plan.jobs[v.job_id]
            if v.frozen or v.forced:
                keep.append(v)
                clock, here = v.end, job.place
                continue
            found = crew.period_at(v.start)
            if found is None or crew.disqualification(job, found.local_date) is not None:
                removed.append(v.job_id)
                continue
            period = found
            if period is not current:
                current = period
                if clock is None or clock < period.start:
                    clock, here = max(period.start, plan.now), period.start_place
            assert here is not None and clock is not None
            arrive = clock + self.minutes(here, job.place)
            start = max(v.start, arrive)
            end = start + (v.end - v.start)
            limit = min(job.latest_end(self.deadline_is_hard), period.overtime_end)
            respond = job.latest_start()
            if (
                end > limit
                or (job.window is not None and start < job.window[0])
                or (respond is not None and start > respond)
            ):
                removed.append(v.job_id)
                continue
            keep.append(Visit(v.job_id, v.technician_id, start, end))
            clock, here = end, job.place
        keep.sort(key=lambda x: (x.start, x.job_id))
        removed += self._strand_less(plan, crew, keep)
        plan.routes[technician_id] = keep
        return removed

    def _strand_less(self, plan: Plan, crew: Crew, route: list[Visit]) -> list[str]:
        """Take movable visits off the end of each period until the drive home fits.

        ``route`` is sorted and changed in place; the ids taken off are returned. Taking
        a later visit off never makes an earlier one later, so the rest stays as timed.
        """
        removed: list[str] = []
        for period in crew.periods:
            home_by = crew.home_by(period)
            if home_by is None:
                continue
            while True:
                inside = [v for v in route if crew.period_at(v.start) is period]
                if not inside or inside[-1].frozen or inside[-1].forced:
                    break
                last = inside[-1]
                if last.end + self.minutes(plan.jobs[last.job_id].place, crew.home) <= home_by:
                    break
                route.remove(last)
                removed.append(last.job_id)
        return removed


def _failure(job: JobSpec, qualified: int) -> tuple[str, str]:
    """Why no technician could take ``job``: the SchedulingFailed reason, and its detail."""
    if qualified == 0:
        return (
            "no_qualified_technician",
            "no technician holds the required skills and valid certifications",
        )
    if job.window is not None and job.window[1] < job.resolve_by:
        return (
            "outside_customer_window",
            f"{qualified} qualified, none free within the customer's window",
        )
    return "no_capacity_before_deadline", f"{qualified} qualified, none free before the deadline"
