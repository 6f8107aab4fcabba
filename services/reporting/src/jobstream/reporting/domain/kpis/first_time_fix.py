"""First-time fix and repeat visits: was a job fixed on the first visit, and did it stay so.

A job first completed in the period is fixed the first time unless it took more than one
visit, the technician flagged it (if the definition trusts the flags), it was reopened, or
a follow-up was logged within the window: another job at the same site and asset (a planned
visit only if the definition says so), or one naming it (docs/kpis.md). The job's part of
that is worked out once per job in ``measures.py`` (``repeat_visit``,
``technician_flagged``, ``reopened_at``, ``is_planned``); the window and the follow-ups are
judged in ``db/kpi_queries.first_time_fix_and_repeat_visits`` for the KPIs now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import (
    DAY,
    Definition,
    GroupBy,
    Period,
    first_completion,
    group_key,
    in_period,
    rate,
)

# Where a follow-up may be logged: (site, asset) → [(logged_at, work_order_id)].
Places = dict[Any, list[tuple[float, str]]]


def is_planned(job: JobFacts) -> bool:
    """Whether the job is a planned maintenance visit (not a call-out)."""
    return bool(job["channel"] == "planned" or job["maintenance_plan_id"] is not None)


def technician_flagged(job: JobFacts) -> bool:
    """Whether the completing technician said it was not a first-time fix, or needs a follow-up."""
    completion = job["completion"]
    return bool(completion and (not completion["first_time_fix"] or completion["follow_up_needed"]))


def is_repeat_visit(job: JobFacts) -> bool:
    """Whether a completed job took more than one visit (arrivals or incomplete visits)."""
    done = first_completion(job)
    assert done is not None
    arrivals = [a for a in job["arrivals"] if a[0] is not None and a[0] <= done]
    incompletes = [i for i in job["incompletes"] if i[0] is not None and i[0] <= done]
    return len(arrivals) > 1 or bool(incompletes)


def _follow_up_index(jobs: Sequence[JobFacts], definition: Definition) -> Places:
    by_place: Places = defaultdict(list)
    for job in jobs:
        if job["logged_at"] is None or job["site_id"] is None:
            continue
        if is_planned(job) and not definition.ftf_planned_visits_count:
            continue
        by_place[(job["site_id"], job["asset_id"])].append((job["logged_at"], job["work_order_id"]))
    return by_place


def _follow_ups_naming(jobs: Sequence[JobFacts]) -> dict[str, list[float]]:
    """When each job was named by a later one as the job it follows up (logging instants)."""
    follow_ups_of: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        if job["follow_up_of"] and job["logged_at"] is not None:
            follow_ups_of[job["follow_up_of"]].append(job["logged_at"])
    return follow_ups_of


def _followed_up(
    job: JobFacts,
    done: float,
    horizon: float,
    naming: dict[str, list[float]],
    places: Places,
) -> bool:
    """Whether a follow-up of the job was logged in (done, horizon]."""
    return any(done < at <= horizon for at in naming[job["work_order_id"]]) or any(
        done < at <= horizon and other != job["work_order_id"]
        for at, other in places.get((job["site_id"], job["asset_id"]), ())
    )


def _reasons_not_fixed(
    job: JobFacts, done: float, horizon: float, followed_up: bool, definition: Definition
) -> list[str]:
    """Why a job completed at ``done`` was not fixed the first time (none: it was)."""
    reasons = []
    if is_repeat_visit(job):
        reasons.append("more_than_one_visit")
    if definition.ftf_trust_technician_flags and technician_flagged(job):
        reasons.append("technician_flagged")
    if any(kind == "reopened" and done < at <= horizon for at, kind in job["closures"]):
        reasons.append("reopened")
    if followed_up:
        reasons.append("follow_up_within_window")
    return reasons


def first_time_fix(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy, definition: Definition
) -> dict[str, dict[str, Any]]:
    """Share of jobs first completed in the period that were fixed on the first visit."""
    window = definition.ftf_window_days * DAY
    places = _follow_up_index(jobs, definition)
    naming = _follow_ups_naming(jobs)
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        done = first_completion(job)
        if not in_period(period, done):
            continue
        assert done is not None
        horizon = min(done + window, period.evaluated_at)
        followed_up = _followed_up(job, done, horizon, naming, places)
        g = out.setdefault(group_key(job, group_by), {"completed": 0, "fixed": 0, "provisional": 0})
        g["completed"] += 1
        if not _reasons_not_fixed(job, done, horizon, followed_up, definition):
            g["fixed"] += 1
            if done + window > period.evaluated_at:
                g["provisional"] += 1
    for g in out.values():
        g["rate"] = rate(g["fixed"], g["completed"])
    return out


def repeat_visits(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy
) -> dict[str, dict[str, Any]]:
    """Share of jobs first completed in the period that took more than one visit."""
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        if not in_period(period, first_completion(job)):
            continue
        g = out.setdefault(group_key(job, group_by), {"completed": 0, "repeat": 0})
        g["completed"] += 1
        g["repeat"] += is_repeat_visit(job)
    for g in out.values():
        g["rate"] = rate(g["repeat"], g["completed"])
    return out
