"""An independent check of a plan's hard constraints, for tests, benchmarks and assertions.

Written apart from the engine on purpose: it shares only the data types, not the search's
timing code, so that an engine bug cannot hide behind the same bug in its checker.
"""

from __future__ import annotations

from jobstream.dispatch.domain.plan import Crew, Plan
from jobstream.dispatch.domain.travel import TravelModel


def violations(plan: Plan, travel: TravelModel) -> list[str]:
    """Every hard constraint the plan breaks (skills, certifications on the day, shifts and
    absences, customer window, overlaps, travel); frozen and forced visits are reality or a
    recorded decision, and are only checked for being placed once."""
    found: list[str] = []
    seen: set[str] = set()
    for tech_id, visits in sorted(plan.routes.items()):
        crew = plan.crews.get(tech_id)
        ordered = sorted(visits, key=lambda v: v.start)
        previous = None
        for v in ordered:
            if v.job_id in seen:
                found.append(f"{v.job_id} placed twice")
            seen.add(v.job_id)
            job = plan.jobs.get(v.job_id)
            if crew is None or job is None:
                found.append(f"{v.job_id}: unknown job or technician {tech_id}")
                continue
            if v.technician_id != tech_id:
                found.append(f"{v.job_id}: filed under {tech_id} but names {v.technician_id}")
            if previous is not None and v.start < previous.end:
                found.append(f"{v.job_id} overlaps {previous.job_id} for {tech_id}")
            if v.frozen or v.forced:
                previous = v
                continue
            if v.end - v.start < job.duration:
                found.append(f"{v.job_id}: {v.end - v.start} min booked, needs {job.duration}")
            home = [p for p in crew.periods if p.start <= v.start and v.end <= p.overtime_end]
            if not home:
                found.append(f"{v.job_id}: outside {tech_id}'s working time")
            else:
                period = home[0]
                if not job.skills <= crew.skills:
                    found.append(f"{v.job_id}: {tech_id} lacks {sorted(job.skills - crew.skills)}")
                for cert in job.certifications:
                    expires = crew.certifications.get(cert)
                    if expires is None or expires < period.local_date:
                        found.append(f"{v.job_id}: {tech_id} has no valid {cert} on the day")
                if previous is None or previous.end < period.start:
                    leg = travel.minutes(period.start_place, job.place)
                    if v.start < period.start + leg:
                        found.append(f"{v.job_id}: no time to travel from the day's start")
            if job.window is not None and not (job.window[0] <= v.start and v.end <= job.window[1]):
                found.append(f"{v.job_id}: outside the customer's window")
            if previous is not None and previous.end >= _period_start(crew, v.start):
                leg = travel.minutes(plan.jobs[previous.job_id].place, job.place)
                if v.start < previous.end + leg:
                    found.append(f"{v.job_id}: no time to travel from {previous.job_id}")
            previous = v
    return found


def _period_start(crew: Crew, moment: int) -> int:
    for p in crew.periods:
        if p.start <= moment <= p.overtime_end:
            return p.start
    return moment
