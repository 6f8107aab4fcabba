"""The duration KPIs: time to schedule, to arrive, to complete, and completion to invoice.

Each counts, per group, the jobs whose duration ended in the period, with the mean and the
90th percentile in minutes (docs/kpis.md). ``measures.py`` keeps each job's instants;
``db/kpi_queries.durations`` aggregates all four in one scan for the KPIs now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import (
    GroupBy,
    Period,
    first_completion,
    group_key,
    in_period,
    mean,
    p90,
    response_at,
)

Durations = dict[str, dict[str, Any]]


def first_invoice(job: JobFacts) -> float | None:
    """When the job's first invoice was issued."""
    issued = [i["issued_at"] for i in job["invoices"].values() if i["issued_at"] is not None]
    return min(issued) if issued else None


def _durations(
    jobs: Sequence[JobFacts],
    period: Period,
    group_by: GroupBy,
    end_of: Callable[[JobFacts], float | None],
    start_of: Callable[[JobFacts], float | None],
) -> Durations:
    values: dict[str, list[float]] = defaultdict(list)
    for job in jobs:
        end, start = end_of(job), start_of(job)
        if start is None or not in_period(period, end):
            continue
        assert end is not None
        values[group_key(job, group_by)].append((end - start) / 60)
    return {
        key: {"count": len(v), "mean_minutes": mean(v), "p90_minutes": p90(v)}
        for key, v in values.items()
    }


def _logged(job: JobFacts) -> float | None:
    logged: float | None = job["logged_at"]
    return logged


def _scheduled(job: JobFacts) -> float | None:
    scheduled: float | None = job["scheduled_at"]
    return scheduled


def time_to_schedule(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> Durations:
    """Logging → first JobScheduled, for jobs first scheduled in the period."""
    return _durations(jobs, period, group_by, _scheduled, _logged)


def time_to_arrive(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> Durations:
    """Logging → first on site, for jobs first reached in the period."""
    return _durations(jobs, period, group_by, response_at, _logged)


def time_to_complete(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> Durations:
    """Logging → first completion, for jobs first completed in the period."""
    return _durations(jobs, period, group_by, first_completion, _logged)


def completion_to_invoice(jobs: Sequence[JobFacts], period: Period, group_by: GroupBy) -> Durations:
    """First completion → first invoice, for jobs first invoiced in the period."""
    return _durations(jobs, period, group_by, first_invoice, first_completion)
