"""What every KPI is stated in: the period, the breakdown, the definition, a job's milestones.

The period is judged at an evaluation instant (now, or the as-of T); ``Definition`` holds
the adjustable parts of the rules (docs/kpis.md). A job's first completion and first
response are the milestones most KPIs count from, ``group_key`` the group it falls in, and
``rate``, ``mean`` and ``p90`` the arithmetic of the figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from jobstream.reporting.domain.jobs import JobFacts

DAY = 86_400.0
ALL = "all"
UNASSIGNED = "unassigned"


class GroupBy(StrEnum):
    """How job-based KPIs are broken down."""

    NONE = "none"
    TECHNICIAN = "technician"
    CUSTOMER = "customer"
    JOB_TYPE = "job_type"
    PRIORITY = "priority"


@dataclass(frozen=True)
class Definition:
    """The adjustable parts of the KPI definitions (defaults are the documented ones)."""

    ftf_window_days: float = 30.0
    # Whether the technician's own "not a first-time fix" / "follow-up needed" flags count.
    ftf_trust_technician_flags: bool = True
    # Whether a planned maintenance visit at the same site and asset counts as a follow-up.
    ftf_planned_visits_count: bool = False


@dataclass(frozen=True)
class Period:
    """[start, end) in epoch seconds, judged at ``evaluated_at`` (now, or the as-of T)."""

    start: float
    end: float
    evaluated_at: float

    @property
    def instant(self) -> float:
        """The instant backlog and pending outcomes are judged at."""
        return min(self.end, self.evaluated_at)


def in_period(period: Period, at: float | None) -> bool:
    """Whether ``at`` is in [start, end) and known by the evaluation instant."""
    return at is not None and period.start <= at < period.end and at <= period.evaluated_at


def mean(values: Sequence[float]) -> float | None:
    """Arithmetic mean, or None for no values."""
    return sum(values) / len(values) if values else None


def p90(values: Sequence[float]) -> float | None:
    """90th percentile by nearest rank: the smallest value ≥ 90 % of the values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(0.9 * len(ordered)) - 1, 0)]


def rate(numerator: int, denominator: int) -> float | None:
    """Numerator ÷ denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator else None


def first_completion(job: JobFacts) -> float | None:
    """When the job was first completed."""
    return job["completion"]["at"] if job["completion"] else None


def response_at(job: JobFacts) -> float | None:
    """When someone was first on site: arrival, or failing that the start or completion."""
    evidence = [a[0] for a in job["arrivals"]]
    evidence += [job["started_at"], first_completion(job)]
    known = [t for t in evidence if t is not None]
    return min(known) if known else None


def group_key(job: JobFacts, group_by: GroupBy) -> str:
    """The group a job falls in."""
    if group_by is GroupBy.NONE:
        return ALL
    if group_by is GroupBy.TECHNICIAN:
        completion = job["completion"]
        tech = completion["technician_id"] if completion else job["technician_id"]
        return tech or UNASSIGNED
    if group_by is GroupBy.CUSTOMER:
        return job["customer_id"] or "unknown"
    if group_by is GroupBy.JOB_TYPE:
        return job["job_type"] or "unknown"
    return job["priority"] or "unknown"
