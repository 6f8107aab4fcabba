"""An independent check of a plan's hard constraints, for tests, benchmarks and assertions.

Written apart from the engine on purpose: it shares only the data types, not the search's
timing code, so that an engine bug cannot hide behind the same bug in its checker.
"""

from __future__ import annotations

from jobstream.dispatch.domain.plan import Crew, JobSpec, Plan, Visit, to_datetime
from jobstream.dispatch.domain.travel import TravelModel

QUALIFICATION = "qualification"
TIME = "time"


class Violation(str):
    """A broken hard constraint, readable as text; ``kind`` is QUALIFICATION or TIME.

    Qualification (skills, certifications valid on the day) can never be overridden; the
    time rules (working time, window, overlap, travel) can be, deliberately, by the office.
    """

    kind: str

    def __new__(cls, kind: str, text: str) -> Violation:
        """The violation ``text``, of ``kind``."""
        made = super().__new__(cls, text)
        made.kind = kind
        return made


def violations(plan: Plan, travel: TravelModel) -> list[Violation]:
    """Every hard constraint the plan breaks.

    Skills, certifications on the day, shifts and absences, customer window, overlaps,
    travel. Frozen visits are reality and are only checked for being placed once; forced
    visits are a recorded decision on time, and are checked for qualification only.
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
    for v in sorted(visits, key=lambda v: v.start):
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
        previous = v


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
    """Add what a movable visit breaks in time: its length, working time, window, travel."""
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
    if job.window is not None and not (job.window[0] <= v.start and v.end <= job.window[1]):
        found.append(Violation(TIME, f"{v.job_id}: outside the customer's window"))
    if previous is not None and previous.end >= _period_start(crew, v.start):
        leg = travel.minutes(plan.jobs[previous.job_id].place, job.place)
        if v.start < previous.end + leg:
            found.append(Violation(TIME, f"{v.job_id}: no time to travel from {previous.job_id}"))


def _qualification(found: list[Violation], crew: Crew, job: JobSpec, v: Visit) -> None:
    """Skills held and certifications valid on the local day of the visit's period.

    For a visit outside every period, on its UTC date.
    """
    period = crew.period_at(v.start)
    day = period.local_date if period else to_datetime(v.start).date()
    if not job.skills <= crew.skills:
        missing = sorted(job.skills - crew.skills)
        found.append(Violation(QUALIFICATION, f"{v.job_id}: {crew.technician_id} lacks {missing}"))
    for cert in sorted(job.certifications):
        expires = crew.certifications.get(cert)
        if expires is None or expires < day:
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
