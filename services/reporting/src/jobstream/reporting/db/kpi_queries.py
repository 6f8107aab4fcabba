"""The KPIs now, as SQL over the per-job measures; each KPI's rule is in domain/kpis/.

Each function mirrors the function of the same name in domain/kpis/ (whose module says
what the KPI is) and returns its figures for a period, aggregated in PostgreSQL over the
rows domain/kpis/measures.py works out per job (docs/adr/0053); ``compute`` gathers them
into the answer ``domain.kpis.compute`` gives over the same jobs, in the same shape.
Instants are epoch seconds in double precision on both sides, so every comparison and sum
is the same IEEE arithmetic.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    and_,
    case,
    func,
    literal,
    not_,
    or_,
    select,
    union,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import (
    job_labour,
    job_measures,
    job_money,
    job_open_spans,
    job_parts,
)
from jobstream.reporting.domain.kpis import (
    AGE_BUCKETS,
    ALL,
    DAY,
    SATISFIED_SCORE,
    Definition,
    GroupBy,
    Period,
    backlog_figures,
    header,
    money,
    rate,
    satisfaction,
    technician_table,
)

Figures = dict[str, dict[str, Any]]


def _f(value: float) -> ColumnElement[float]:
    return literal(value, Double)


def _in(period: Period, at: Any) -> ColumnElement[bool]:
    """Start ≤ at < end and at ≤ evaluated (domain.kpis.in_period)."""
    return and_(at >= _f(period.start), at < _f(period.end), at <= _f(period.evaluated_at))


def _key(group_by: GroupBy, measures: Any = job_measures) -> ColumnElement[str]:
    if group_by is GroupBy.NONE:
        return literal(ALL)
    return measures.c[f"by_{group_by.value}"]


def _with_measures(table: Any, group_by: GroupBy) -> Any:
    """``table`` joined to its job's measures when the breakdown needs the job's group."""
    if group_by is GroupBy.NONE:
        return table
    return table.join(job_measures, job_measures.c.work_order_id == table.c.work_order_id)


async def first_time_fix_and_repeat_visits(
    conn: AsyncConnection, period: Period, group_by: GroupBy, definition: Definition
) -> tuple[Figures, Figures]:
    """First-time fix and repeat visits of the jobs first completed in the period (one scan).

    As domain.kpis.first_time_fix and domain.kpis.repeat_visits.
    """
    m = job_measures
    window = _f(definition.ftf_window_days * DAY)
    done = (
        select(
            m.c.work_order_id,
            _key(group_by).label("key"),
            m.c.completed_at,
            func.least(m.c.completed_at + window, _f(period.evaluated_at)).label("horizon"),
            m.c.site_id,
            m.c.asset_id,
            m.c.repeat_visit,
            m.c.technician_flagged,
            m.c.reopened_at,
        )
        .where(_in(period, m.c.completed_at))
        .cte("done")
    )
    # Followed up within the window: another job logged at the same site and asset (no
    # asset on both counts as the same; ids are never empty), or one naming it. Joins
    # rather than a subquery per job, so PostgreSQL can hash them.
    other, named = job_measures.alias("other"), job_measures.alias("named")
    same_place = [
        other.c.site_id == done.c.site_id,
        func.coalesce(other.c.asset_id, "") == func.coalesce(done.c.asset_id, ""),
        other.c.work_order_id != done.c.work_order_id,
        other.c.logged_at > done.c.completed_at,
        other.c.logged_at <= done.c.horizon,
    ]
    if not definition.ftf_planned_visits_count:
        same_place.append(not_(other.c.is_planned))
    # Only jobs logged after the period began and before its last window closed can follow.
    same_place += [
        other.c.logged_at > _f(period.start),
        other.c.logged_at <= _f(period.end) + window,
    ]
    followed_up = union(
        select(done.c.work_order_id).join(other, and_(*same_place)),
        select(done.c.work_order_id).join(
            named,
            and_(
                named.c.follow_up_of == done.c.work_order_id,
                named.c.logged_at > done.c.completed_at,
                named.c.logged_at <= done.c.horizon,
            ),
        ),
    ).subquery("followed_up")
    reasons = [
        done.c.repeat_visit,
        and_(done.c.reopened_at.is_not(None), done.c.reopened_at <= done.c.horizon),
        followed_up.c.work_order_id.is_not(None),
    ]
    if definition.ftf_trust_technician_flags:
        reasons.append(done.c.technician_flagged)
    judged = (
        select(
            done.c.key,
            done.c.completed_at,
            done.c.repeat_visit,
            not_(or_(*reasons)).label("fixed"),
        )
        .select_from(
            done.outerjoin(followed_up, followed_up.c.work_order_id == done.c.work_order_id)
        )
        .subquery()
    )
    stmt = select(
        judged.c.key,
        func.count().label("completed"),
        func.count().filter(judged.c.fixed).label("fixed"),
        func.count()
        .filter(judged.c.fixed, judged.c.completed_at + window > _f(period.evaluated_at))
        .label("provisional"),
        func.count().filter(judged.c.repeat_visit).label("repeat"),
    ).group_by(judged.c.key)
    ftf: Figures = {}
    repeats: Figures = {}
    for row in await conn.execute(stmt):
        ftf[row.key] = {
            "completed": row.completed,
            "fixed": row.fixed,
            "provisional": row.provisional,
            "rate": rate(row.fixed, row.completed),
        }
        repeats[row.key] = {
            "completed": row.completed,
            "repeat": row.repeat,
            "rate": rate(row.repeat, row.completed),
        }
    return ftf, repeats


async def sla(conn: AsyncConnection, period: Period, group_by: GroupBy, which: str) -> Figures:
    """Met, breached and pending of the jobs whose respond or resolve deadline is in the period.

    Each is judged against the deadline in force for it (domain.kpis.sla).
    """
    m = job_measures
    reached = m.c.responded_at if which == "respond" else m.c.completed_at
    due_unmet = m.c.respond_due if which == "respond" else m.c.resolve_due
    due_if_met = m.c.respond_due_if_met if which == "respond" else m.c.resolve_due_if_met
    evaluated = _f(period.evaluated_at)
    met_at = case((reached <= evaluated, reached), else_=None)
    judged = select(
        _key(group_by).label("key"),
        met_at.label("met_at"),
        case((met_at.is_not(None), due_if_met), else_=due_unmet).label("due"),
        m.c.withdrawn_at,
    ).subquery()
    met = and_(judged.c.met_at.is_not(None), judged.c.met_at <= judged.c.due)
    stmt = (
        select(
            judged.c.key,
            func.count().filter(met).label("met"),
            func.count()
            .filter(not_(met), or_(judged.c.met_at.is_not(None), judged.c.due <= evaluated))
            .label("breached"),
            func.count()
            .filter(judged.c.met_at.is_(None), judged.c.due > evaluated)
            .label("pending"),
        )
        .where(
            judged.c.due >= _f(period.start),
            judged.c.due < _f(period.end),
            # Cancelled or rejected before it was due, with nobody there: not judged.
            not_(
                and_(
                    judged.c.met_at.is_(None),
                    judged.c.withdrawn_at.is_not(None),
                    judged.c.withdrawn_at <= judged.c.due,
                )
            ),
        )
        .group_by(judged.c.key)
    )
    return {
        row.key: {
            "met": row.met,
            "breached": row.breached,
            "pending": row.pending,
            "rate": rate(row.met, row.met + row.breached),
        }
        for row in await conn.execute(stmt)
    }


async def customer_satisfaction(
    conn: AsyncConnection, period: Period, group_by: GroupBy
) -> Figures:
    """The ratings, made by the evaluation instant, of jobs first completed in the period.

    As domain.kpis.customer_satisfaction.
    """
    m = job_measures
    by_rating = group_by is GroupBy.TECHNICIAN  # whom the rating names, else the job's group
    key = (m.c.rating_by_technician if by_rating else _key(group_by)).label("key")
    stmt = (
        select(
            key,
            func.count().label("ratings"),
            func.sum(m.c.rating_score).label("score_total"),
            func.count().filter(m.c.rating_score >= SATISFIED_SCORE).label("satisfied"),
        )
        .where(
            _in(period, m.c.completed_at),
            m.c.rating_score.is_not(None),
            m.c.rated_at <= _f(period.evaluated_at),
        )
        .group_by(key)
    )
    return {
        row.key: satisfaction(row.ratings, int(row.score_total), row.satisfied)
        for row in await conn.execute(stmt)
    }


DURATIONS = {
    "time_to_schedule": ("scheduled_at", "logged_at"),
    "time_to_arrive": ("responded_at", "logged_at"),
    "time_to_complete": ("completed_at", "logged_at"),
    "completion_to_invoice": ("invoiced_at", "completed_at"),
}


async def durations(conn: AsyncConnection, period: Period, group_by: GroupBy) -> dict[str, Figures]:
    """Every duration KPI by name, each over the jobs whose duration ended in the period.

    One scan: per key, ``<name>_count``, ``<name>_mean`` and ``<name>_p90`` (minutes) of
    every duration (domain.kpis.time_to_schedule and the others of domain/kpis/durations.py).
    """
    key = _key(group_by).label("key")
    columns: list[Any] = [key]
    any_ended = []
    for name, (end_column, start_column) in DURATIONS.items():
        end, start = job_measures.c[end_column], job_measures.c[start_column]
        minutes = (end - start) / _f(60.0)
        ended = and_(start.is_not(None), _in(period, end))
        any_ended.append(ended)
        columns += [
            func.count().filter(ended).label(f"{name}_count"),
            func.avg(minutes).filter(ended).label(f"{name}_mean"),
            # Nearest rank, as domain.kpis.p90: the row at ceil(0.9 n).
            func.percentile_disc(0.9).within_group(minutes).filter(ended).label(f"{name}_p90"),
        ]
    stmt = select(*columns).where(or_(*any_ended)).group_by(key)
    out: dict[str, Figures] = {name: {} for name in DURATIONS}
    for row in await conn.execute(stmt):
        for name in DURATIONS:
            count = getattr(row, f"{name}_count")
            if count:
                out[name][row.key] = {
                    "count": count,
                    "mean_minutes": getattr(row, f"{name}_mean"),
                    "p90_minutes": getattr(row, f"{name}_p90"),
                }
    return out


async def parts_usage(
    conn: AsyncConnection, period: Period, group_by: GroupBy
) -> dict[str, Figures]:
    """Per key and SKU, the parts used in the period (domain.kpis.parts_usage)."""
    key = _key(group_by).label("key")
    stmt = (
        select(
            key,
            job_parts.c.sku,
            func.min(job_parts.c.description).label("description"),
            func.min(job_parts.c.unit).label("unit"),
            func.sum(job_parts.c.quantity_milli).label("quantity_milli"),
            func.count(job_parts.c.work_order_id.distinct()).label("jobs"),
        )
        .select_from(_with_measures(job_parts, group_by))
        .where(job_parts.c.quantity_milli > 0, _in(period, job_parts.c.used_at))
        .group_by(key, job_parts.c.sku)
    )
    out: dict[str, Figures] = {}
    for row in await conn.execute(stmt):
        out.setdefault(row.key, {})[row.sku] = {
            "description": row.description,
            "unit": row.unit,
            "quantity_milli": int(row.quantity_milli),
            "jobs": row.jobs,
        }
    return out


async def revenue(
    conn: AsyncConnection, period: Period, group_by: GroupBy
) -> dict[str, dict[str, dict[str, int]]]:
    """Per key and currency, the invoices and credit notes issued in the period.

    As domain.kpis.revenue.
    """
    by_invoice = group_by is GroupBy.TECHNICIAN  # whom the invoice names, else the job's group
    key = (job_money.c.by_technician if by_invoice else _key(group_by)).label("key")
    invoiced = func.coalesce(
        func.sum(job_money.c.net_minor).filter(job_money.c.kind == "invoice"), 0
    )
    credited = func.coalesce(
        func.sum(job_money.c.net_minor).filter(job_money.c.kind == "credit"), 0
    )
    stmt = (
        select(key, job_money.c.currency, invoiced.label("invoiced"), credited.label("credited"))
        .select_from(_with_measures(job_money, GroupBy.NONE if by_invoice else group_by))
        .where(_in(period, job_money.c.issued_at))
        .group_by(key, job_money.c.currency)
    )
    out: dict[str, dict[str, dict[str, int]]] = {}
    for row in await conn.execute(stmt):
        out.setdefault(row.key, {})[row.currency] = money(int(row.invoiced), int(row.credited))
    return out


async def completions_by_technician(conn: AsyncConnection, period: Period) -> dict[str, int]:
    """First completions in the period per completing technician."""
    stmt = (
        select(job_measures.c.completed_by, func.count())
        .where(_in(period, job_measures.c.completed_at))
        .group_by(job_measures.c.completed_by)
    )
    return {tech: n for tech, n in (await conn.execute(stmt)).all()}


async def labour_by_technician(conn: AsyncConnection, period: Period) -> dict[str, float]:
    """Labour minutes in the period per technician."""
    stmt = (
        select(job_labour.c.technician_id, func.sum(job_labour.c.minutes))
        .where(_in(period, job_labour.c.at))
        .group_by(job_labour.c.technician_id)
    )
    return {tech: minutes for tech, minutes in (await conn.execute(stmt)).all()}


async def backlog(conn: AsyncConnection, period: Period) -> dict[str, Any]:
    """The jobs open at the end of the period (or now), by priority then age.

    As domain.kpis.backlog: counted per priority and age bucket, with the oldest age.
    """
    at = period.instant
    s = job_open_spans
    age = _f(at) - s.c.logged_at
    buckets = []
    lower: float | None = None
    for name, limit in AGE_BUCKETS:
        conditions = [age >= _f(lower)] if lower is not None else []
        if limit != float("inf"):
            conditions.append(age < _f(limit))
        buckets.append(
            func.count().filter(*conditions).label(name) if conditions else func.count().label(name)
        )
        lower = limit
    stmt = (
        select(s.c.priority, *buckets, func.max(age).label("oldest"))
        .where(s.c.opened_at <= _f(at), or_(s.c.closed_at.is_(None), s.c.closed_at > _f(at)))
        .group_by(s.c.priority)
    )
    by_priority: dict[str, dict[str, int]] = {}
    oldest = 0.0
    for row in await conn.execute(stmt):
        by_priority[row.priority] = {name: getattr(row, name) for name, _ in AGE_BUCKETS}
        oldest = max(oldest, row.oldest)
    return backlog_figures(at, by_priority, oldest)


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
    ftf, repeats = await first_time_fix_and_repeat_visits(conn, period, group_by, definition)
    completed = await completions_by_technician(conn, period)
    labour = await labour_by_technician(conn, period)
    result: dict[str, Any] = {
        **header(period, group_by, definition),
        "first_time_fix": ftf,
        "sla_respond": await sla(conn, period, group_by, "respond"),
        "sla_resolve": await sla(conn, period, group_by, "resolve"),
    }
    result |= await durations(conn, period, group_by)
    result |= {
        "repeat_visits": repeats,
        "customer_satisfaction": await customer_satisfaction(conn, period, group_by),
        "parts_usage": await parts_usage(conn, period, group_by),
        "revenue": await revenue(conn, period, group_by),
        "technicians": technician_table(techs, period, completed, labour),
        "backlog": await backlog(conn, period),
    }
    return result
