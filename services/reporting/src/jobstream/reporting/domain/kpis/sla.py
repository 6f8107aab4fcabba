"""SLA compliance: was a job reached (respond) or first completed (resolve) by its deadline.

A job is judged in the period its deadline falls in, against the deadline in force for it
(``effective_deadline``): met, breached, or pending while the deadline is still ahead; a job
cancelled or rejected before it was due, with nobody there, is not judged (docs/kpis.md).
``measures.py`` keeps each job's deadlines with and without its response or completion;
``db/kpi_queries.sla`` judges them for the KPIs now.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import (
    GroupBy,
    Period,
    first_completion,
    group_key,
    rate,
    response_at,
)

RESPOND, RESOLVE = 1, 2  # which deadline of a job's [changed_at, respond_by, resolve_by]


def effective_deadline(job: JobFacts, which: int, met_at: float | None) -> float | None:
    """The deadline a job is judged against (which: 1 respond, 2 resolve).

    The deadlines set at logging hold unless changed (priority change or amendment); a
    change applies only if made before the deadline then in force had passed and before
    the job had already met it, so a breach cannot be undone by lowering the priority.
    """
    deadline: float | None = None
    for changed_at, *pair in sorted(
        job["deadlines"], key=lambda d: d[0] if d[0] is not None else -math.inf
    ):
        new = pair[which - 1]
        if deadline is None:
            deadline = new
            continue
        if changed_at is None or changed_at > deadline:
            continue
        if met_at is not None and changed_at > met_at:
            continue
        deadline = new
    return deadline


def withdrawn_at(job: JobFacts) -> float | None:
    """When the job was first cancelled or rejected, if it was."""
    withdrawals = [
        at for at, kind in job["closures"] if kind in ("cancelled", "rejected") and at is not None
    ]
    return min(withdrawals) if withdrawals else None


def sla(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy, which: str
) -> dict[str, dict[str, Any]]:
    """Respond or resolve compliance of the jobs whose deadline falls in the period."""
    index = RESPOND if which == "respond" else RESOLVE
    out: dict[str, dict[str, Any]] = {}
    for job in jobs:
        if job["logged_at"] is None or not job["deadlines"]:
            continue
        met_at = response_at(job) if which == "respond" else first_completion(job)
        if met_at is not None and met_at > period.evaluated_at:
            met_at = None
        deadline = effective_deadline(job, index, met_at)
        if deadline is None or not (period.start <= deadline < period.end):
            continue
        withdrawn = withdrawn_at(job)
        if met_at is None and withdrawn is not None and withdrawn <= deadline:
            continue  # cancelled or rejected before it was due: not judged
        g = out.setdefault(group_key(job, group_by), {"met": 0, "breached": 0, "pending": 0})
        if met_at is not None and met_at <= deadline:
            g["met"] += 1
        elif met_at is not None or deadline <= period.evaluated_at:
            g["breached"] += 1
        else:
            g["pending"] += 1
    for g in out.values():
        g["rate"] = rate(g["met"], g["met"] + g["breached"])
    return out
