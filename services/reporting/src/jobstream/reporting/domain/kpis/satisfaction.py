"""Customer satisfaction: the customers' ratings of the jobs first completed in the period.

A rating counts once it was made by the evaluation instant; a job without one is not
counted; by technician it counts for the one the rating names, else the job's technician
(docs/kpis.md). ``measures.py`` keeps each job's score and whom it counts for;
``db/kpi_queries.customer_satisfaction`` aggregates them for the KPIs now.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.terms import (
    GroupBy,
    Period,
    first_completion,
    group_key,
    in_period,
    rate,
)

# A rating of at least this (out of 5) counts as a satisfied customer.
SATISFIED_SCORE = 4


def rating_key(job: JobFacts, group_by: GroupBy) -> str:
    """The group a job's rating falls in.

    By technician, the one the rating names, else the job's technician group; otherwise
    the job's group.
    """
    technician = job["rating"]["technician_id"] if job["rating"] else None
    if group_by is GroupBy.TECHNICIAN and technician:
        return str(technician)
    key: str = group_key(job, group_by)
    return key


def satisfaction(ratings: int, score_total: int, satisfied: int) -> dict[str, Any]:
    """The customer satisfaction figures of ``ratings`` ratings adding up to ``score_total``.

    ``satisfied`` of them are at SATISFIED_SCORE or more (ratings > 0).
    """
    return {
        "ratings": ratings,
        "mean_score": round(score_total / ratings, 2),
        "satisfied": satisfied,
        "rate": rate(satisfied, ratings),
    }


def customer_satisfaction(
    jobs: Sequence[JobFacts], period: Period, group_by: GroupBy
) -> dict[str, dict[str, Any]]:
    """The customers' ratings of the jobs first completed in the period.

    Only as far as they were made by the evaluation instant; a job without a rating is not
    counted.
    """
    scores: dict[str, list[int]] = defaultdict(list)
    for job in jobs:
        rating = job["rating"]
        if rating is None or not in_period(period, first_completion(job)):
            continue
        if rating["rated_at"] is None or rating["rated_at"] > period.evaluated_at:
            continue
        scores[rating_key(job, group_by)].append(rating["score"])
    return {
        key: satisfaction(len(v), sum(v), sum(s >= SATISFIED_SCORE for s in v))
        for key, v in scores.items()
    }
