"""One planning decision, pure: the plan under change, and the events that say what changed.

``Decision`` holds the live plan as loaded (``scheduling.load`` does the reading), lets the
engine change it (place, repair, unplace, retry), and ``changes`` / ``events_for`` diff the
plan against how it stood before into one event list per changed job (JobScheduled,
JobRescheduled, JobUnscheduled, SchedulingFailed, JobDispatched), with the reasons and
candidates the office reads. No I/O here: ``scheduling.record`` reads each job's stream
head and site notes for its pack, and appends.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from jobstream.contracts.base import Event
from jobstream.contracts.common import WorkOrderDetails
from jobstream.contracts.dispatch import (
    CandidateAssessment,
    JobDispatched,
    JobPack,
    JobRescheduled,
    JobScheduled,
    JobUnscheduled,
    SchedulingFailed,
    SchedulingFailureReason,
    TechnicianProfile,
)
from jobstream.dispatch.config import DispatchSettings
from jobstream.dispatch.domain.insertion import Engine, Placement
from jobstream.dispatch.domain.plan import (
    PRIORITY_RANK,
    Crew,
    DriveHome,
    JobSpec,
    Period,
    Plan,
    Visit,
    to_datetime,
    to_deadline_minutes,
    to_minutes,
)
from jobstream.dispatch.domain.technicians import Absence, working_periods
from jobstream.dispatch.domain.travel import GreatCircleTravel, Place, TravelModel

# Field statuses in which the technician has set off or is on site: the visit is frozen.
UNDER_WAY = frozenset({"en_route", "on_site", "in_progress", "on_hold"})


class UnqualifiedAssignmentError(AssertionError):
    """The engine produced an assignment to a technician without the skills: a bug."""


@dataclass(frozen=True)
class Cause:
    """What a decision answers: the causing event (or API command) and its time."""

    event_id: str
    at: datetime
    decided_by: str = "engine"


@dataclass
class Decision:
    """The live plan under change, and what to say about each job that moved."""

    plan: Plan
    engine: Engine
    travel: TravelModel
    settings: DispatchSettings
    before: dict[str, Visit]
    work_orders: dict[str, dict[str, Any]]
    schedule: dict[str, dict[str, Any]]
    names: dict[str, str]
    notes: dict[str, list[str]] = field(default_factory=dict)
    placements: dict[str, Placement] = field(default_factory=dict)
    dispatch_again: set[str] = field(default_factory=set)
    unscheduled_reason: dict[str, str] = field(default_factory=dict)
    forced: dict[str, str] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)

    def note(self, job_id: str, text: str) -> None:
        """Add a reason to what will be said about ``job_id``."""
        self.notes.setdefault(job_id, []).append(text)

    # -- engine operations --------------------------------------------------------------

    def place(self, job_id: str, *, bump: bool = False) -> Placement:
        """Place one job (urgent ones may displace lower priorities)."""
        job = self.plan.jobs[job_id]
        placement, replaced = self.engine.place(self.plan, job, bump=bump)
        self.placements[job_id] = placement
        label = f"P{job.priority} {job_id}"
        for jid, again in replaced.items():
            self.placements[jid] = again
            self.note(jid, f"displaced by {label}")
            self.unscheduled_reason[jid] = f"displaced by {label}; no other slot"
        if placement.option is not None:
            for v in placement.option.pushed:
                self.note(v.job_id, f"pushed later by {label} placed before it")
        return placement

    def retry_unplaced(self) -> None:
        """Try again every open job that is neither placed nor held by a dispatcher."""
        waiting = [
            j
            for j in self.plan.jobs.values()
            if self.plan.visit_of(j.job_id) is None
            and not self.held(j.job_id)
            and j.job_id not in self.cancelled
        ]
        for job in sorted(waiting, key=lambda j: (j.priority, j.respond_by, j.job_id)):
            self.place(job.job_id)

    def held(self, job_id: str) -> bool:
        """Unassigned by a dispatcher: the engine leaves it where the office put it."""
        row = self.schedule.get(job_id)
        return bool(row and row["state"] == "unscheduled" and row["decided_by"] != "engine")

    def repair(self, technician_id: str, why: str) -> None:
        """Re-time one technician's route; visits that no longer fit are placed again."""
        before = {v.job_id: v for v in self.plan.route(technician_id)}
        removed = self.engine.repair(self.plan, technician_id)
        for v in self.plan.route(technician_id):
            old = before.get(v.job_id)
            if old is not None and old.start != v.start:
                self.note(v.job_id, why)
        for jid in removed:
            self.note(jid, why)
            self.unscheduled_reason[jid] = f"{why}; no other slot"
        for jid in sorted(removed, key=lambda j: (self.plan.jobs[j].priority, j)):
            if jid in self.plan.jobs:
                self.place(jid)

    def unplace(self, job_id: str, reason: str) -> None:
        """Take a job off the plan (cancelled, finished, or unassigned by the office)."""
        self.plan.remove(job_id)
        self.unscheduled_reason[job_id] = reason


# ---------------------------------------------------------------------------------------
# the plan as it stands


def job_spec(
    work_order_id: str,
    details: WorkOrderDetails,
    release: int,
    hard_respond_by: Collection[str] = (),
) -> JobSpec:
    """The engine's view of a work order; ``hard_respond_by``: priorities whose respond-by is hard.

    Deadlines (respond-by, resolve-by, the window's close) round down to the minute and
    starts round up, so that no rounding ever lets a visit end after the real moment.
    """
    window = None
    if details.time_window is not None:
        window = (
            to_minutes(details.time_window.start),
            to_deadline_minutes(details.time_window.end),
        )
    loc = details.site.location
    return JobSpec(
        job_id=work_order_id,
        place=Place(f"site:{details.site.site_id}", loc.lat, loc.lon),
        site_id=details.site.site_id,
        duration=details.estimated_duration_minutes,
        priority=PRIORITY_RANK[details.priority.value],
        release=release,
        respond_by=to_deadline_minutes(details.respond_by),
        resolve_by=to_deadline_minutes(details.resolve_by),
        window=window,
        skills=frozenset(details.required_skills),
        certifications=frozenset(details.required_certifications),
        respond_by_is_hard=details.priority.value in hard_respond_by,
    )


def crew_of(
    row: dict[str, Any],
    absences: list[Absence],
    now: datetime,
    horizon: timedelta,
    drive_home: DriveHome = DriveHome.IN_OVERTIME,
) -> Crew:
    """The engine's view of a technician (``row["profile"]`` parsed) over the planning horizon.

    A period's start rounds up and its ends down, and an absence widens to whole minutes,
    so that no rounding adds working time; ``drive_home`` is the business's (or the
    technician's) rule for the drive home.
    """
    profile: TechnicianProfile = row["profile"]
    tech_id = row["technician_id"]
    home = Place(f"home:{tech_id}", profile.home_base.lat, profile.home_base.lon)
    live = None
    if row.get("lat") is not None:
        live = (Place(f"live:{tech_id}", row["lat"], row["lon"]), row["located_at"])
    periods = []
    for wt in working_periods(profile, absences, now - timedelta(days=1), now + horizon):
        start_place = home
        if live is not None and wt.start <= now < wt.overtime_end and live[1] >= wt.start:
            start_place = live[0]
        periods.append(
            Period(
                to_minutes(wt.start),
                to_deadline_minutes(wt.end),
                to_deadline_minutes(wt.overtime_end),
                wt.local_date,
                start_place,
            )
        )
    return Crew(
        technician_id=tech_id,
        home=home,
        skills=frozenset(s.name for s in profile.skills),
        certifications={c.name: c.expires_on for c in profile.certifications},
        periods=tuple(periods),
        drive_home=drive_home,
        time_zone=profile.time_zone,
        absences=tuple(
            sorted((to_deadline_minutes(a.starts_at), to_minutes(a.ends_at)) for a in absences)
        ),
    )


def _thaw_behind_work_under_way(plan: Plan, work_orders: dict[str, dict[str, Any]]) -> None:
    """Unfreeze the visits behind work under way: they have not started.

    A visit is frozen by the clock when its planned departure has passed, unless the field
    says its technician is still busy with an earlier job: then it has not started.
    """
    for tech_id, route in plan.routes.items():
        busy = [
            i for i, v in enumerate(route) if work_orders[v.job_id]["field_status"] in UNDER_WAY
        ]
        if not busy:
            continue
        plan.routes[tech_id] = [
            replace(v, frozen=False)
            if i > busy[-1] and work_orders[v.job_id]["field_status"] not in UNDER_WAY
            else v
            for i, v in enumerate(route)
        ]


def _visit_of(row: dict[str, Any], wo: dict[str, Any], job: JobSpec, now: int) -> Visit:
    """The planned visit; frozen when under way or when its planned departure has passed."""
    start, end = to_minutes(row["window_start"]), to_minutes(row["window_end"])
    departs = start - int(row["travel_minutes"] or 0)
    frozen = wo["field_status"] in UNDER_WAY or departs <= now
    return Visit(job.job_id, row["technician_id"], start, end, frozen, bool(row["forced"]))


def _as_it_happens(plan: Plan, work_orders: dict[str, dict[str, Any]], now: int) -> None:
    """Visits on site or in progress take their real start; the expected end follows."""
    for tech_id, route in plan.routes.items():
        for i, v in enumerate(route):
            wo = work_orders[v.job_id]
            actual = wo["started_at"] or wo["arrived_at"]
            if actual is not None:
                start = to_minutes(actual)
                end = max(start + plan.jobs[v.job_id].duration, now)
                route[i] = replace(v, start=start, end=end, frozen=True)
        plan.routes[tech_id] = sorted(route, key=lambda v: (v.start, v.job_id))


def planned(
    *,
    settings: DispatchSettings,
    now: datetime,
    technicians: list[dict[str, Any]],
    absences: list[dict[str, Any]],
    work_orders: dict[str, dict[str, Any]],
    schedule: dict[str, dict[str, Any]],
    site_technicians: dict[str, frozenset[str]],
) -> Decision:
    """The decision to make at ``now``, from the rows ``scheduling.load`` read.

    Each work order row's ``details`` is its WorkOrderDetails and each technician row's
    ``profile`` its TechnicianProfile, parsed already (scheduling.py keeps them parsed).
    """
    horizon = timedelta(days=settings.horizon_days)
    by_tech: dict[str, list[Absence]] = {}
    for a in absences:
        absence = Absence(a["absence_id"], a["starts_at"], a["ends_at"], a["reason"])
        by_tech.setdefault(a["technician_id"], []).append(absence)
    crews: dict[str, Crew] = {}
    names: dict[str, str] = {}
    for row in technicians:
        names[row["technician_id"]] = row["name"]
        if row["active"]:
            absent = by_tech.get(row["technician_id"], [])
            rule = row["profile"].drive_home or settings.drive_home
            crew = crew_of(row, absent, now, horizon, rule)
            crews[crew.technician_id] = crew
    now_min = to_minutes(now)
    jobs = {
        wo: job_spec(
            wo,
            r["details"],
            now_min,
            settings.hard_respond_by_priorities,
        )
        for wo, r in work_orders.items()
    }
    plan = Plan(jobs, crews, now=now_min)
    for wo, row in schedule.items():
        if row["state"] != "scheduled":
            continue
        plan.put(_visit_of(row, work_orders[wo], jobs[wo], now_min))
    _thaw_behind_work_under_way(plan, work_orders)
    _as_it_happens(plan, work_orders, now_min)
    travel = GreatCircleTravel(settings.road_factor, settings.speed_kmh)
    engine = Engine(travel, site_technicians=site_technicians)
    before = {v.job_id: v for route in plan.routes.values() for v in route}
    return Decision(plan, engine, travel, settings, before, work_orders, schedule, names)


# ---------------------------------------------------------------------------------------
# reasons


def legs(decision: Decision) -> dict[str, tuple[int, float]]:
    """(travel minutes, km) into each visit from the place before it."""
    plan, out = decision.plan, {}
    for tech_id, route in plan.routes.items():
        crew = plan.crews.get(tech_id)
        previous: Visit | None = None
        for v in route:
            here = plan.jobs[v.job_id].place
            period = None
            if crew is not None:
                period = crew.period_at(v.start)
            if previous is not None and (period is None or previous.end >= period.start):
                origin = plan.jobs[previous.job_id].place
            elif period is not None:
                origin = period.start_place
            else:
                origin = here
            out[v.job_id] = (
                decision.travel.minutes(origin, here),
                round(decision.travel.km(origin, here), 2),
            )
            previous = v
    return out


def _considered(placement: Placement | None) -> tuple[CandidateAssessment, ...]:
    if placement is None:
        return ()
    return tuple(
        CandidateAssessment(
            technician_id=a.technician_id,
            eligible=a.eligible,
            reason=a.reason[:500],
            travel_minutes=a.travel_minutes,
        )
        for a in placement.considered[:50]
    )


def _why_chosen(
    decision: Decision, job: JobSpec, visit: Visit, leg: tuple[int, float]
) -> list[str]:
    placement = decision.placements.get(job.job_id)
    reasons = []
    needs = sorted(job.skills) + [f"{c} (valid on the day)" for c in sorted(job.certifications)]
    reasons.append(f"{visit.technician_id} holds {', '.join(needs) or 'no special skill'}")
    if placement is not None:
        eligible = sum(1 for a in placement.considered if a.eligible)
        reasons.append(
            f"{placement.qualified} of {len(placement.considered)} technicians qualified, "
            f"{eligible} with time; lowest weighted cost (SLA lateness × priority, travel, "
            f"jobs moved, workload, continuity at the site)"
        )
        if placement.option is not None and (placement.option.pushed or placement.option.bumped):
            moved = len(placement.option.pushed) + len(placement.option.bumped)
            reasons.append(f"moves {moved} other job(s)")
    late = visit.start - job.respond_by
    reasons.append(
        f"on site {to_datetime(visit.start):%Y-%m-%d %H:%M} UTC, "
        + (f"{late} min after respond-by" if late > 0 else "within respond-by")
    )
    reasons.append(f"travel {leg[0]} min ({leg[1]:.1f} km)")
    if visit.technician_id in decision.engine.site_technicians.get(job.site_id, frozenset()):
        reasons.append("has worked at this site before")
    return reasons


def assert_qualified(decision: Decision, visit: Visit) -> None:
    """The last line of defence: no event ever names an unqualified technician.

    Forced visits included: qualification cannot be overridden.
    """
    crew = decision.plan.crews.get(visit.technician_id)
    job = decision.plan.jobs[visit.job_id]
    if crew is None:
        raise UnqualifiedAssignmentError(
            f"{visit.job_id} would go to unknown {visit.technician_id}"
        )
    # The technician's own day(s), from the clock: a forced visit may lie outside every period.
    days = {crew.local_date(visit.start), crew.local_date(max(visit.start, visit.end - 1))}
    period = crew.period_at(visit.start)
    if period is not None:
        days.add(period.local_date)
    if any(crew.disqualification(job, day) is not None for day in days):
        raise UnqualifiedAssignmentError(
            f"{visit.job_id} would go to unqualified {visit.technician_id}"
        )


# ---------------------------------------------------------------------------------------
# what changed, and the events that say so


@dataclass(frozen=True)
class JobChange:
    """One job the decision touched: where it stood before and after.

    ``needs_pack``: whether its technician's device needs the job pack (again).
    """

    work_order_id: str
    old: Visit | None
    new: Visit | None
    needs_pack: bool


def changes(decision: Decision) -> list[JobChange]:
    """Every open job whose visit moved, was placed or tried, or must be sent again."""
    after = {v.job_id: v for route in decision.plan.routes.values() for v in route}
    touched = sorted(
        set(after) | set(decision.before) | set(decision.placements) | decision.dispatch_again
    )
    found = []
    for wo in touched:
        if wo not in decision.work_orders:
            continue
        old, new = decision.before.get(wo), after.get(wo)
        if old == new and wo not in decision.placements and wo not in decision.dispatch_again:
            continue  # untouched by this decision
        needs_pack = new is not None and (
            old is None or old.technician_id != new.technician_id or wo in decision.dispatch_again
        )
        found.append(JobChange(wo, old, new, needs_pack))
    return found


def events_for(
    decision: Decision,
    change: JobChange,
    cause: Cause,
    at: datetime,
    pack: JobPack | None,
    legs: dict[str, tuple[int, float]],
) -> list[Event]:
    """The events that say what ``change`` is, stamped ``at`` (``pack`` when it needs one)."""
    wo, old, new = change.work_order_id, change.old, change.new
    plan = decision.plan
    out: list[Event] = []
    forced = wo in decision.forced
    common: dict[str, Any] = {
        "work_order_id": wo,
        "decided_by": cause.decided_by,
        "forced": forced,
        "force_reason": decision.forced.get(wo),
    }
    if new is not None:
        if new != old:
            assert_qualified(decision, new)
        job = plan.jobs[wo]
        leg = legs.get(wo, (0, 0.0))
        reasons = tuple(decision.notes.get(wo, [])) + tuple(_why_chosen(decision, job, new, leg))
        moved = old is not None and (
            old.technician_id != new.technician_id or old.start != new.start or old.end != new.end
        )
        timing = {
            "technician_id": new.technician_id,
            "window_start": to_datetime(new.start),
            "window_end": to_datetime(new.end),
            "eta": to_datetime(new.start),
            "travel_minutes": leg[0],
            "travel_km": leg[1],
            "reasons": reasons,
            "considered": _considered(decision.placements.get(wo)),
        }
        if old is None:
            out.append(JobScheduled(**common, **timing, scheduled_at=at))
        elif moved:
            out.append(
                JobRescheduled(
                    **common,
                    **timing,
                    previous_technician_id=old.technician_id,
                    previous_window_start=to_datetime(old.start),
                    rescheduled_at=at,
                )
            )
        if change.needs_pack:
            if pack is None:
                raise ValueError(f"{wo} goes to {new.technician_id}'s device: a pack is needed")
            out.append(
                JobDispatched(
                    work_order_id=wo,
                    technician_id=new.technician_id,
                    job_pack=pack,
                    dispatched_at=at,
                )
            )
    elif old is not None:
        out.append(
            JobUnscheduled(
                **common,
                technician_id=old.technician_id,
                reason=decision.unscheduled_reason.get(wo, "taken off the plan")[:500],
                reasons=tuple(decision.notes.get(wo, [])),
                considered=_considered(decision.placements.get(wo)),
                unscheduled_at=at,
            )
        )
    placement = decision.placements.get(wo)
    if new is None and placement is not None and placement.failure is not None:
        previous = decision.schedule.get(wo)
        same = (
            old is None
            and previous is not None
            and previous["state"] == "failed"
            and previous["failure_reason"] == placement.failure
        )
        if not same:
            out.append(
                SchedulingFailed(
                    work_order_id=wo,
                    reason=SchedulingFailureReason(placement.failure),
                    detail=placement.detail[:500],
                    considered=_considered(placement),
                    failed_at=at,
                )
            )
    return out


def not_before(at: datetime, last: datetime | None) -> datetime:
    """``at``, or the job's last decision time if that is later.

    A decision is stamped with its cause's business time (ADR 0005), and a cause can be
    older than the job's last decision (a device syncing late); a job's own decisions must
    still read in time order, or a timeline ordered by time shows a move before the
    scheduling (ADR 0066).
    """
    return max(at, last) if last is not None else at
