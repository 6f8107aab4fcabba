"""Every KPI for a period from the per-job measures, computed in PostgreSQL: the same answer
as domain.kpis.compute over the same jobs, in the same shape (docs/adr/0053)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.reporting.db import kpi_queries as sql
from jobstream.reporting.db import queries
from jobstream.reporting.domain import kpis
from jobstream.reporting.domain.kpis import Definition, GroupBy, Period


async def _first_time_fix_and_repeats(
    conn: AsyncConnection, period: Period, group_by: GroupBy, definition: Definition
) -> tuple[dict[str, Any], dict[str, Any]]:
    ftf: dict[str, Any] = {}
    repeats: dict[str, Any] = {}
    for row in await sql.first_time_fix(conn, period, group_by, definition):
        ftf[row.key] = {
            "completed": row.completed,
            "fixed": row.fixed,
            "provisional": row.provisional,
            "rate": kpis.rate(row.fixed, row.completed),
        }
        repeats[row.key] = {
            "completed": row.completed,
            "repeat": row.repeat,
            "rate": kpis.rate(row.repeat, row.completed),
        }
    return ftf, repeats


async def _sla(conn: AsyncConnection, period: Period, group_by: GroupBy, which: str) -> dict:
    return {
        row.key: {
            "met": row.met,
            "breached": row.breached,
            "pending": row.pending,
            "rate": kpis.rate(row.met, row.met + row.breached),
        }
        for row in await sql.sla(conn, period, group_by, which)
    }


async def _satisfaction(conn: AsyncConnection, period: Period, group_by: GroupBy) -> dict:
    return {
        row.key: kpis.satisfaction(row.ratings, int(row.score_total), row.satisfied)
        for row in await sql.customer_satisfaction(conn, period, group_by)
    }


async def _durations(conn: AsyncConnection, period: Period, group_by: GroupBy) -> dict:
    out: dict[str, dict[str, Any]] = {name: {} for name in sql.DURATIONS}
    for row in await sql.durations(conn, period, group_by):
        for name in sql.DURATIONS:
            count = getattr(row, f"{name}_count")
            if count:
                out[name][row.key] = {
                    "count": count,
                    "mean_minutes": getattr(row, f"{name}_mean"),
                    "p90_minutes": getattr(row, f"{name}_p90"),
                }
    return out


async def _parts(conn: AsyncConnection, period: Period, group_by: GroupBy) -> dict:
    out: dict[str, dict[str, Any]] = {}
    for row in await sql.parts_usage(conn, period, group_by):
        out.setdefault(row.key, {})[row.sku] = {
            "description": row.description,
            "unit": row.unit,
            "quantity_milli": int(row.quantity_milli),
            "jobs": row.jobs,
        }
    return out


async def _revenue(conn: AsyncConnection, period: Period, group_by: GroupBy) -> dict:
    out: dict[str, dict[str, Any]] = {}
    for row in await sql.revenue(conn, period, group_by):
        invoiced, credited = int(row.invoiced), int(row.credited)
        out.setdefault(row.key, {})[row.currency] = {
            "invoiced_net_minor": invoiced,
            "credited_net_minor": credited,
            "net_minor": invoiced - credited,
        }
    return out


async def _backlog(conn: AsyncConnection, period: Period) -> dict[str, Any]:
    at = period.instant
    by_priority: dict[str, dict[str, int]] = {}
    total = 0
    oldest = 0.0
    for row in await sql.backlog(conn, at):
        counts = {name: getattr(row, name) for name, _ in kpis.AGE_BUCKETS}
        by_priority[row.priority] = counts
        total += sum(counts.values())
        oldest = max(oldest, row.oldest)
    return {
        "at": at,
        "total": total,
        "by_priority": dict(sorted(by_priority.items())),
        "oldest_age_hours": oldest / 3600 if total else None,
    }


async def compute(
    conn: AsyncConnection,
    period: Period,
    group_by: GroupBy = GroupBy.NONE,
    definition: Definition | None = None,
    techs: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Every KPI for the period (as domain.kpis.compute), aggregated in PostgreSQL."""
    definition = definition or Definition()
    techs = techs if techs is not None else await queries.technician_facts(conn)
    ftf, repeats = await _first_time_fix_and_repeats(conn, period, group_by, definition)
    completed = await sql.completions_by_technician(conn, period)
    labour = await sql.labour_by_technician(conn, period)
    result: dict[str, Any] = {
        "period": {"start": period.start, "end": period.end, "evaluated_at": period.evaluated_at},
        "group_by": group_by.value,
        "definition": asdict(definition),
        "first_time_fix": ftf,
        "sla_respond": await _sla(conn, period, group_by, "respond"),
        "sla_resolve": await _sla(conn, period, group_by, "resolve"),
    }
    result |= await _durations(conn, period, group_by)
    result |= {
        "repeat_visits": repeats,
        "customer_satisfaction": await _satisfaction(conn, period, group_by),
        "parts_usage": await _parts(conn, period, group_by),
        "revenue": await _revenue(conn, period, group_by),
        "technicians": kpis.technician_table(techs, period, completed, labour),
        "backlog": await _backlog(conn, period),
    }
    return result
