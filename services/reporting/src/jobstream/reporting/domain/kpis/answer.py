"""Every KPI for a period, in the one shape ``/kpis`` and ``jobstream-reporting kpis`` answer.

``compute`` answers from job and technician facts (as of T: folded from the events known
then); ``db/kpi_queries.compute`` gives the same answer from the per-job measures in
PostgreSQL (now). Both start from ``header``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.kpis.backlog import backlog
from jobstream.reporting.domain.kpis.durations import (
    completion_to_invoice,
    time_to_arrive,
    time_to_complete,
    time_to_schedule,
)
from jobstream.reporting.domain.kpis.first_time_fix import first_time_fix, repeat_visits
from jobstream.reporting.domain.kpis.parts import parts_usage
from jobstream.reporting.domain.kpis.revenue import revenue
from jobstream.reporting.domain.kpis.satisfaction import customer_satisfaction
from jobstream.reporting.domain.kpis.sla import sla
from jobstream.reporting.domain.kpis.terms import Definition, GroupBy, Period
from jobstream.reporting.domain.kpis.utilisation import technician_kpis
from jobstream.reporting.domain.technicians import TechnicianFacts


def header(period: Period, group_by: GroupBy, definition: Definition) -> dict[str, Any]:
    """What an answer was asked: the period, the breakdown and the definition."""
    return {
        "period": {"start": period.start, "end": period.end, "evaluated_at": period.evaluated_at},
        "group_by": group_by.value,
        "definition": asdict(definition),
    }


def compute(
    jobs: Sequence[JobFacts],
    techs: Mapping[str, TechnicianFacts],
    period: Period,
    group_by: GroupBy = GroupBy.NONE,
    definition: Definition | None = None,
) -> dict[str, Any]:
    """Every KPI for the period."""
    definition = definition or Definition()
    return {
        **header(period, group_by, definition),
        "first_time_fix": first_time_fix(jobs, period, group_by, definition),
        "sla_respond": sla(jobs, period, group_by, "respond"),
        "sla_resolve": sla(jobs, period, group_by, "resolve"),
        "time_to_schedule": time_to_schedule(jobs, period, group_by),
        "time_to_arrive": time_to_arrive(jobs, period, group_by),
        "time_to_complete": time_to_complete(jobs, period, group_by),
        "completion_to_invoice": completion_to_invoice(jobs, period, group_by),
        "repeat_visits": repeat_visits(jobs, period, group_by),
        "customer_satisfaction": customer_satisfaction(jobs, period, group_by),
        "parts_usage": parts_usage(jobs, period, group_by),
        "revenue": revenue(jobs, period, group_by),
        "technicians": technician_kpis(jobs, techs, period),
        "backlog": backlog(jobs, period),
    }
