"""What the API and the CLI answer (KPIs, jobs as of T, histories); rules in domain/, SQL in db/.

KPIs now or as of T, job states as of T, timelines, site and asset histories. Not a spine
module: reporting has no commands (handlers.py) and no reactions (policies.py); this is its
read side, the I/O around the pure folds and KPI rules of domain/ (the KPIs in
domain/kpis/, whose package docstring maps them) and the queries of db/ (the KPIs now in
db/kpi_queries.py). It picks how a KPI is answered: now, aggregated in PostgreSQL; as of
T, folded from the log and computed in Python with the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.topics import TECHNICIANS
from jobstream.reporting.db import kpi_queries, queries
from jobstream.reporting.domain import kpis
from jobstream.reporting.domain.jobs import JobFacts
from jobstream.reporting.domain.timeline import causal_order
from jobstream.reporting.projections import fold_job, fold_technician, job_row

# How far past a period a follow-up may be logged and still count against it.
MAX_LOOKBACK = timedelta(days=366)


def _period(start: datetime, end: datetime, as_of: datetime | None, now: datetime) -> kpis.Period:
    evaluated = min(as_of, now) if as_of is not None else now
    return kpis.Period(start.timestamp(), end.timestamp(), evaluated.timestamp())


async def _folded_jobs(
    conn: AsyncConnection, subjects: list[str] | None, until: datetime
) -> list[JobFacts]:
    """Fold the events known at ``until`` of the given work orders (all when None)."""
    facts: list[JobFacts] = []
    current: str | None = None
    batch: list[dict[str, Any]] = []
    async for row in queries.events_for_subjects(conn, subjects, until):
        if row["subject"] != current and batch:
            facts.append(fold_job(batch[0]["subject"], batch))
            batch = []
        current = row["subject"]
        batch.append(row)
    if batch:
        facts.append(fold_job(batch[0]["subject"], batch))
    return facts


async def _folded_technicians(conn: AsyncConnection, until: datetime) -> dict[str, Any]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    async for row in queries.events_for_subjects(conn, None, until, topic=TECHNICIANS):
        grouped.setdefault(row["subject"], []).append(row)
    return {subject: fold_technician(subject, rows) for subject, rows in grouped.items()}


async def facts_as_of(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    definition: kpis.Definition,
    as_of: datetime,
) -> tuple[list[JobFacts], Mapping[str, Any]]:
    """The facts of the jobs that can count in a period, and of every technician.

    Folded from the events known at ``as_of``.
    """
    lookback_end = end + timedelta(days=definition.ftf_window_days)
    window_start = start - timedelta(days=definition.ftf_window_days)
    subjects = await queries.subjects_for_period(conn, window_start, end, lookback_end, as_of)
    jobs = await _folded_jobs(conn, subjects, as_of)
    return jobs, await _folded_technicians(conn, as_of)


async def compute_kpis(
    conn: AsyncConnection,
    start: datetime,
    end: datetime,
    *,
    group_by: kpis.GroupBy = kpis.GroupBy.NONE,
    definition: kpis.Definition | None = None,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Every KPI over [start, end), now or as the log stood at ``as_of``.

    Now: aggregated in PostgreSQL over the per-job measures. As of T: the jobs that can
    matter are folded from the events known at T and the KPIs computed in Python, with the
    same definitions (docs/adr/0050, 0053).
    """
    definition = definition or kpis.Definition()
    now = now or datetime.now(UTC)
    period = _period(start, end, as_of, now)
    if as_of is None:
        result = await kpi_queries.compute(conn, period, group_by, definition)
    else:
        jobs, techs = await facts_as_of(conn, start, end, definition, as_of)
        result = kpis.compute(jobs, techs, period, group_by, definition)
    result["as_of"] = as_of.isoformat() if as_of else None
    return result


async def kpis_for_periods(
    conn: AsyncConnection,
    periods: list[tuple[datetime, datetime]],
    *,
    as_of: datetime | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every KPI (default definitions, no breakdown) for each of several periods."""
    now = now or datetime.now(UTC)
    if as_of is None:
        projected = await queries.technician_facts(conn)
        return [
            await kpi_queries.compute(conn, _period(a, b, None, now), techs=projected)
            for a, b in periods
        ]
    definition = kpis.Definition()
    start, end = min(a for a, _ in periods), max(b for _, b in periods)
    jobs, techs = await facts_as_of(conn, start, end, definition, as_of)
    return [kpis.compute(jobs, techs, _period(a, b, as_of, now)) for a, b in periods]


def job_view(facts: JobFacts) -> dict[str, Any]:
    """A job's state for the API: the projected columns plus its facts."""
    row = job_row(facts)
    return {**{k: v for k, v in row.items() if k != "facts"}, "facts": facts}


async def job_as_of(
    conn: AsyncConnection, work_order_id: str, as_of: datetime
) -> dict[str, Any] | None:
    """One job as the log stood at ``as_of``."""
    events = await queries.events_of(conn, work_order_id, until=as_of)
    return job_view(fold_job(work_order_id, events)) if events else None


async def jobs_as_of(
    conn: AsyncConnection, as_of: datetime, filters: Mapping[str, str]
) -> list[dict[str, Any]]:
    """Every job's state as the log stood at ``as_of`` (filtered on the projected columns)."""
    views = [job_view(f) for f in await _folded_jobs(conn, None, as_of)]
    views = [v for v in views if all(v.get(k) == value for k, value in filters.items())]
    views.sort(
        key=lambda v: (-(v["logged_at"].timestamp() if v["logged_at"] else 0), v["work_order_id"])
    )
    return views


async def timeline(
    conn: AsyncConnection, subject: str, as_of: datetime | None = None
) -> list[dict[str, Any]]:
    """A subject's events in causal order."""
    return [dict(e) for e in causal_order(await queries.timeline_rows(conn, subject, as_of))]


def _visit(facts: JobFacts) -> dict[str, Any]:
    completion = facts["completion"] or {}
    return {
        "work_order_id": facts["work_order_id"],
        "job_type": facts["job_type"],
        "asset_id": facts["asset_id"],
        "site_id": facts["site_id"],
        "status": facts["status"],
        "priority": facts["priority"],
        "logged_at": _iso(facts["logged_at"]),
        "completed_at": _iso(completion.get("at")),
        "technician_id": completion.get("technician_id") or facts["technician_id"],
        "work_done": completion.get("work_done"),
        "visits": max(len(facts["arrivals"]), 1 if completion else 0),
        "follow_up_of": facts["follow_up_of"],
        "parts": [
            {"sku": m[2], "description": m[3], "quantity_milli": m[4], "unit": m[5]}
            for m in facts["materials"].values()
            if m[4] > 0
        ],
    }


def _iso(epoch: float | None) -> str | None:
    return datetime.fromtimestamp(epoch, UTC).isoformat() if epoch is not None else None


async def service_history(conn: AsyncConnection, column: str, value: str) -> list[dict[str, Any]]:
    """Every job at a site (column site_id) or on an asset (asset_id), oldest first."""
    facts = await queries.job_facts_at(conn, column, value)
    visits = [_visit(f) for f in facts]
    visits.sort(key=lambda v: (v["logged_at"] or "", v["work_order_id"]))
    return visits
