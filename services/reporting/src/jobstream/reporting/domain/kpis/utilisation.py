"""The technician KPIs: jobs completed per shift day, and utilisation (labour ÷ shift time).

For every technician known: first completions and labour minutes in the period against the
shift time their rota gives, less absences (docs/kpis.md, domain/technicians.py).
``measures.py`` keeps each job's labour entries; ``db/kpi_queries`` counts completions and
labour per technician for the KPIs now, and both answer through ``technician_table``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import Period, first_completion, in_period
from jobstream.reporting.domain.technicians import TechnicianFacts, shift_minutes_by_day


def labour_entries(job: JobFacts) -> Iterable[tuple[float | None, str, float]]:
    """(at, technician, minutes) of a job's labour.

    Its time entries, else the totals reported at completion and at each incomplete visit.
    """
    if job["labour"]:
        for at, tech, minutes in job["labour"].values():
            yield at, tech, minutes
        return
    for at, tech, _reason, minutes in job["incompletes"]:
        yield at, tech, minutes
    completion = job["completion"]
    if completion:
        yield completion["at"], completion["technician_id"], completion["labour_minutes"]


def technician_kpis(
    jobs: Sequence[JobFacts], techs: Mapping[str, TechnicianFacts], period: Period
) -> dict[str, dict[str, Any]]:
    """Jobs per shift day, utilisation, for every technician known."""
    completed: dict[str, int] = defaultdict(int)
    labour: dict[str, float] = defaultdict(float)
    for job in jobs:
        if in_period(period, first_completion(job)):
            completed[job["completion"]["technician_id"]] += 1
        for at, tech_id, minutes in labour_entries(job):
            if in_period(period, at):
                labour[tech_id] += minutes
    return technician_table(techs, period, completed, labour)


def technician_table(
    techs: Mapping[str, TechnicianFacts],
    period: Period,
    completed: Mapping[str, int],
    labour: Mapping[str, float],
) -> dict[str, dict[str, Any]]:
    """The technician KPIs from first completions and labour minutes in the period.

    Per technician: every technician known, and any other who completed or logged labour.
    """
    out: dict[str, dict[str, Any]] = {}
    for tech_id in sorted({*techs, *completed, *labour}):
        tech = techs.get(tech_id)
        days = shift_minutes_by_day(tech, period.start, period.end) if tech else {}
        r: dict[str, Any] = {
            "name": tech["name"] if tech else None,
            "jobs_completed": completed.get(tech_id, 0),
            "shift_days": len(days),
            "shift_minutes": sum(days.values()),
            "labour_minutes": 0.0 + labour.get(tech_id, 0.0),
        }
        r["jobs_per_day"] = r["jobs_completed"] / r["shift_days"] if r["shift_days"] else None
        r["utilisation"] = r["labour_minutes"] / r["shift_minutes"] if r["shift_minutes"] else None
        out[tech_id] = r
    return out
