"""An independent check of a plan's hard constraints, for tests, benchmarks and assertions.

Written apart from the engine on purpose: it shares only the data types, not the search's
timing code, so that an engine bug cannot hide behind the same bug in its checker. It
checks everything the engine claims (ADR 0022, 0085): skills, certifications valid on the
technician's local day, working time and absences, the drive out and, where the policy
counts it, the drive home, the customer's window, overlaps, travel, resolve-by and a hard
respond-by.
"""

from __future__ import annotations

from jobstream.dispatch.domain.plan import (
    Crew,
    DriveHome,
    JobSpec,
    Period,
    Plan,
    Visit,
    to_datetime,
)
from jobstream.dispatch.domain.travel import TravelModel

QUALIFICATION = "qualification"
TIME = "time"
DEADLINE = "deadline"


class Violation(str):
    """A broken hard constraint, readable as text; ``kind`` is QUALIFICATION, TIME or DEADLINE.

    Qualification (skills, certifications valid on the day) can never be overridden; the
    time rules (working time, absence, drive home, window, overlap, travel) can be,
    deliberately, by the office. DEADLINE (resolve-by, a hard respond-by) is what the
    engine promises; for the office it is weighed, and noted as an SLA breach (ADR 0022).
    """

    kind: str

    def __new__(cls, kind: str, text: str) -> Violation:
        """The violation ``text``, of ``kind``."""
        made = super().__new__(cls, text)
        made.kind = kind
        return made


def violations(plan: Plan, travel: TravelModel) -> list[Violation]:
    """Every hard constraint the plan breaks.

    Frozen visits are reality and are only checked for being placed once; forced visits
    are a recorded decision on time, and are checked for qualification only.
    """
    found: list[Violation] = []
    seen: set[str] = set()
    for tech_id, visits in sorted(plan.routes.items()):
        _check_route(found, seen, plan, travel, tech_id, visits)
    return found


def _check_route(
    found: list[Violation],
    seen: set[str],
    plan: Plan,
    travel: TravelModel,
    tech_id: str,
    visits: list[Visit],
) -> None:
    """Add what one technician's route breaks to ``found``; ``seen``: the jobs met so far."""
    crew = plan.crews.get(tech_id)
    previous = None
    ordered = sorted(visits, key=lambda v: v.start)
    for v in ordered:
        if v.job_id in seen:
            found.append(Violation(TIME, f"{v.job_id} placed twice"))
        seen.add(v.job_id)
        job = plan.jobs.get(v.job_id)
        if crew is None or job is None:
            found.append(Violation(QUALIFICATION, f"{v.job_id}: unknown technician {tech_id}"))
            continue
        if v.technician_id != tech_id:
            found.append(
                Violation(TIME, f"{v.job_id}: filed under {tech_id}, names {v.technician_id}")
            )
        if previous is not None and v.start < previous.end and not v.forced:
            found.append(Violation(TIME, f"{v.job_id} overlaps {previous.job_id} for {tech_id}"))
        if not v.frozen:
            _qualification(found, crew, job, v)
            if not v.forced:
                _time_rules(found, plan, travel, tech_id, crew, job, v, previous)
                _deadlines(found, job, v)
        previous = v
    if crew is not None:
        _drive_home(found, plan, travel, crew, ordered)


def _time_rules(
    found: list[Violation],
    plan: Plan,
    travel: TravelModel,
    tech_id: str,
    crew: Crew,
    job: JobSpec,
    v: Visit,
    previous: Visit | None,
) -> None:
    """Add what a movable visit breaks in time: length, working time, absence, window, travel."""
    if v.end - v.start < job.duration:
        found.append(
            Violation(TIME, f"{v.job_id}: {v.end - v.start} min booked, needs {job.duration}")
        )
    home = [p for p in crew.periods if p.start <= v.start and v.end <= p.overtime_end]
    if not home:
        found.append(Violation(TIME, f"{v.job_id}: outside {tech_id}'s working time"))
    else:
        period = home[0]
        if previous is None or previous.end < period.start:
            leg = travel.minutes(period.start_place, job.place)
            if v.start < period.start + leg:
                found.append(Violation(TIME, f"{v.job_id}: no time to travel from the day's start"))
    # Checked against the absences themselves, not only the periods cut around them.
    for away_from, away_until in crew.absences:
        if v.start < away_until and away_from < v.end:
            found.append(
                Violation(
                    TIME,
                    f"{v.job_id}: {tech_id} is absent from {to_datetime(away_from):%Y-%m-%d %H:%M}"
                    f" to {to_datetime(away_until):%H:%M} UTC",
                )
            )
    if job.window is not None and not (job.window[0] <= v.start and v.end <= job.window[1]):
        found.append(Violation(TIME, f"{v.job_id}: outside the customer's window"))
    if previous is not None and previous.end >= _period_start(crew, v.start):
        leg = travel.minutes(plan.jobs[previous.job_id].place, job.place)
        if v.start < previous.end + leg:
            found.append(Violation(TIME, f"{v.job_id}: no time to travel from {previous.job_id}"))


def _deadlines(found: list[Violation], job: JobSpec, v: Visit) -> None:
    """Finished by resolve-by; on site by respond-by where the business makes that hard."""
    if v.end > job.resolve_by:
        found.append(
            Violation(
                DEADLINE,
                f"{v.job_id}: finishes {v.end - job.resolve_by} min after resolve-by "
                f"({to_datetime(job.resolve_by):%Y-%m-%d %H:%M} UTC)",
            )
        )
    if job.respond_by_is_hard and v.start > job.respond_by:
        found.append(
            Violation(
                DEADLINE,
                f"{v.job_id}: on site {v.start - job.respond_by} min after its hard respond-by",
            )
        )


def _drive_home(
    found: list[Violation], plan: Plan, travel: TravelModel, crew: Crew, ordered: list[Visit]
) -> None:
    """Each period's last visit leaves time to drive home, where the policy counts it.

    A frozen or forced last visit is reality or the office's decision, and not judged.
    """
    for period in crew.periods:
        limit = _home_limit(crew, period)
        if limit is None:
            continue
        inside = [v for v in ordered if period.start <= v.start < period.overtime_end]
        if not inside:
            continue
        last = inside[-1]
        job = plan.jobs.get(last.job_id)
        if last.frozen or last.forced or job is None:
            continue
        home_at = last.end + travel.minutes(job.place, crew.home)
        if home_at > limit:
            found.append(
                Violation(
                    TIME,
                    f"{last.job_id}: {crew.technician_id} cannot be home by "
                    f"{to_datetime(limit):%H:%M} UTC ({home_at - limit} min late)",
                )
            )


def _home_limit(crew: Crew, period: Period) -> int | None:
    """By when the policy wants the technician home after ``period``; None: not counted.

    Spelled out here rather than taken from ``Crew.home_by``, so that the two are written
    apart.
    """
    match crew.drive_home:
        case DriveHome.IN_SHIFT:
            return period.end
        case DriveHome.IN_OVERTIME:
            return period.overtime_end
        case _:
            return None


def _qualification(found: list[Violation], crew: Crew, job: JobSpec, v: Visit) -> None:
    """Skills held and certifications valid on every local day the visit touches.

    The day is the technician's own (their time zone), not UTC, and it is taken from the
    clock rather than from the period, so that a forced visit outside every period is
    judged on the right day too.
    """
    days = sorted({crew.local_date(v.start), crew.local_date(max(v.start, v.end - 1))})
    if not job.skills <= crew.skills:
        missing = sorted(job.skills - crew.skills)
        found.append(Violation(QUALIFICATION, f"{v.job_id}: {crew.technician_id} lacks {missing}"))
    for cert in sorted(job.certifications):
        expires = crew.certifications.get(cert)
        day = next((d for d in days if expires is None or expires < d), None)
        if day is not None:
            found.append(
                Violation(
                    QUALIFICATION,
                    f"{v.job_id}: {crew.technician_id} has no valid {cert} on {day.isoformat()}",
                )
            )


def _period_start(crew: Crew, moment: int) -> int:
    for p in crew.periods:
        if p.start <= moment <= p.overtime_end:
            return p.start
    return moment
