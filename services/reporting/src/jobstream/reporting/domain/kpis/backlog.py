"""Backlog: the jobs open at the end of the period (or now), by priority then age.

A job is open from its logging until it is completed, cancelled or rejected (and again
while reopened), at the priority in force then (docs/kpis.md). ``measures.py`` keeps each
job's open spans; ``db/kpi_queries.backlog`` counts those open at the instant for the KPIs
now, and both answer through ``backlog_figures``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts, is_open_at, priority_at
from jobstream.reporting.domain.kpis.terms import DAY, Period

AGE_BUCKETS: tuple[tuple[str, float], ...] = (
    ("0-1d", 1 * DAY),
    ("1-3d", 3 * DAY),
    ("3-7d", 7 * DAY),
    ("7-30d", 30 * DAY),
    ("30d+", math.inf),
)
HOUR = 3600.0


def backlog_figures(
    at: float, by_priority: Mapping[str, Mapping[str, int]], oldest_age: float
) -> dict[str, Any]:
    """The backlog's figures from the open jobs' counts by priority and age bucket."""
    total = sum(sum(counts.values()) for counts in by_priority.values())
    return {
        "at": at,
        "total": total,
        "by_priority": dict(sorted(by_priority.items())),
        "oldest_age_hours": oldest_age / HOUR if total else None,
    }


def backlog(jobs: Sequence[JobFacts], period: Period) -> dict[str, Any]:
    """Jobs open at the end of the period (or now), by priority then age."""
    at = period.instant
    by_priority: dict[str, dict[str, int]] = {}
    oldest = 0.0
    for job in jobs:
        if not is_open_at(job, at):
            continue
        age = at - job["logged_at"]
        bucket = next(name for name, limit in AGE_BUCKETS if age < limit)
        counts = by_priority.setdefault(
            priority_at(job, at) or "unknown", {name: 0 for name, _ in AGE_BUCKETS}
        )
        counts[bucket] += 1
        oldest = max(oldest, age)
    return backlog_figures(at, by_priority, oldest)
