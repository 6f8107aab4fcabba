"""Reporting's queries: the event log, the job and technician projections, what reads them.

What the API and the analysts' tools read from them. The KPIs' aggregates are in
kpi_queries.py, the rebuild's look-ups in rebuild_queries.py.
"""

from __future__ import annotations

import functools
import json
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    Text,
    and_,
    any_,
    bindparam,
    cast,
    column,
    delete,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, Insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.topics import TECHNICIANS
from jobstream.reporting.db.tables import (
    JOB_CHILD_TABLES,
    Generation,
    event_log,
    jobs,
    technicians,
)

LOCATION_PING = "TechnicianLocated"
# Filled in by PostgreSQL: arrival order and time.
_GENERATED = ("seq", "recorded_at")
_TIMELINE_COLUMNS = [c for c in event_log.c if c.name not in _GENERATED]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _rows_json(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps(list(rows), default=_jsonable, allow_nan=False)


@functools.cache
def _insert_rows(table: Table) -> Insert:
    """INSERT INTO table SELECT … FROM jsonb_to_recordset(:rows): a batch as one JSON parameter.

    One statement whatever the count of rows (an executemany costs a statement a row).
    Floats go through JSON in their shortest exact form, so doubles arrive unchanged.
    """
    columns = [c for c in table.c if c.name not in _GENERATED]
    records = (
        func.jsonb_to_recordset(cast(bindparam("rows", type_=Text), JSONB))
        .table_valued(*[column(c.name, c.type) for c in columns])
        .render_derived(name="r", with_types=True)
    )
    return pg_insert(table).from_select(
        [c.name for c in columns], select(*[records.c[c.name] for c in columns])
    )


@functools.cache
def _upsert_rows(table: Table, key: str) -> Insert:
    stmt = _insert_rows(table)
    return stmt.on_conflict_do_update(
        index_elements=[key],
        set_={c.name: stmt.excluded[c.name] for c in table.c if c.name != key},
    )


async def start_batch(conn: AsyncConnection, log: Table) -> None:
    """Let the commit return before its WAL is flushed; take the log's insert lock now.

    The lock is the one an insert takes (ROW EXCLUSIVE, which writers share). Both in one
    round trip: two statements in one simple query, which takes no parameters.
    """
    await conn.exec_driver_sql(
        f'SET LOCAL synchronous_commit TO OFF; LOCK TABLE "{log.name}" IN ROW EXCLUSIVE MODE'
    )


async def record_events(conn: AsyncConnection, log: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Keep events in the log (one statement); those there already are left as they are."""
    if rows:
        stmt = _insert_rows(log).on_conflict_do_nothing(index_elements=["event_id"])
        await conn.execute(stmt, {"rows": _rows_json(rows)})


async def events_of_subjects(
    conn: AsyncConnection, log: Table, subjects: Sequence[str]
) -> list[dict[str, Any]]:
    """Every event of these subjects as folded (location pings left out)."""
    if not subjects:
        return []
    columns = [log.c[c.name] for c in _TIMELINE_COLUMNS]
    wanted = bindparam("subjects", list(subjects), type_=ARRAY(Text))
    stmt = select(*columns).where(log.c.subject == any_(wanted), log.c.event_type != LOCATION_PING)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def logged_subjects(
    conn: AsyncConnection, log: Table, event_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Of these event ids, those the log holds: id → its subject, topic and type."""
    if not event_ids:
        return {}
    wanted = bindparam("ids", list(set(event_ids)), type_=ARRAY(Text))
    stmt = select(log.c.event_id, log.c.subject, log.c.topic, log.c.event_type).where(
        log.c.event_id == any_(wanted)
    )
    return {r.event_id: dict(r._mapping) for r in await conn.execute(stmt)}


async def job_snapshots(
    conn: AsyncConnection, table: Table, work_order_ids: Sequence[str], schema_version: int
) -> dict[str, tuple[str, dict[str, Any] | None]]:
    """Jobs' snapshot rows of ``schema_version``: work order → (facts as JSON, position)."""
    if not work_order_ids:
        return {}
    wanted = bindparam("ids", list(work_order_ids), type_=ARRAY(Text))
    stmt = select(table.c.work_order_id, table.c.facts, table.c.position).where(
        table.c.work_order_id == any_(wanted), table.c.schema_version == schema_version
    )
    return {r.work_order_id: (r.facts, r.position) for r in await conn.execute(stmt)}


async def events_of(
    conn: AsyncConnection, subject: str, until: datetime | None = None
) -> list[dict[str, Any]]:
    """A subject's events as folded (location pings left out), optionally up to ``until``."""
    stmt = select(*_TIMELINE_COLUMNS).where(
        event_log.c.subject == subject, event_log.c.event_type != LOCATION_PING
    )
    if until is not None:
        stmt = stmt.where(event_log.c.occurred_at <= until)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def timeline_rows(
    conn: AsyncConnection, subject: str, until: datetime | None = None
) -> list[dict[str, Any]]:
    """Every event of a subject (not yet in causal order), optionally up to ``until``."""
    stmt = select(*_TIMELINE_COLUMNS).where(event_log.c.subject == subject)
    if until is not None:
        stmt = stmt.where(event_log.c.occurred_at <= until)
    return [dict(r._mapping) for r in await conn.execute(stmt)]


async def upsert(conn: AsyncConnection, table: Table, key: str, rows: Sequence[dict]) -> None:
    """Insert or replace projection rows by their key (one statement for the lot)."""
    if rows:
        await conn.execute(_upsert_rows(table, key), {"rows": _rows_json(rows)})


async def replace_job_rows(
    conn: AsyncConnection,
    gen: Generation,
    work_order_ids: Sequence[str],
    rows: Mapping[str, Sequence[dict[str, Any]]],
) -> None:
    """Write these jobs' rows in every table of the jobs projection, replacing old child rows.

    ``rows`` are by Generation table name.
    """
    if not work_order_ids:
        return
    await upsert(conn, gen.jobs, "work_order_id", rows.get("jobs", ()))
    await upsert(conn, gen.job_measures, "work_order_id", rows.get("job_measures", ()))
    wanted = bindparam("ids", list(work_order_ids), type_=ARRAY(Text))
    for name in JOB_CHILD_TABLES:
        table: Table = getattr(gen, name)
        await conn.execute(delete(table).where(table.c.work_order_id == any_(wanted)))
        if rows.get(name):
            await conn.execute(_insert_rows(table), {"rows": _rows_json(rows[name])})


async def job(conn: AsyncConnection, work_order_id: str) -> dict[str, Any] | None:
    """One job's projected row."""
    row = (await conn.execute(select(jobs).where(jobs.c.work_order_id == work_order_id))).first()
    return dict(row._mapping) if row else None


async def list_jobs(
    conn: AsyncConnection, filters: dict[str, str], limit: int, offset: int
) -> list[dict[str, Any]]:
    """Jobs matching exact-value ``filters`` on their columns, newest first."""
    columns = [c for c in jobs.c if c.name != "facts"]
    stmt = select(*columns)
    for name, value in filters.items():
        stmt = stmt.where(jobs.c[name] == value)
    stmt = stmt.order_by(jobs.c.logged_at.desc().nulls_last(), jobs.c.work_order_id)
    return [dict(r._mapping) for r in await conn.execute(stmt.limit(limit).offset(offset))]


async def job_facts_at(conn: AsyncConnection, column: str, value: str) -> list[dict[str, Any]]:
    """Facts of every job at a site or on an asset."""
    rows = await conn.execute(select(jobs.c.facts).where(jobs.c[column] == value))
    return [r.facts for r in rows]


def _relevant(table: Table, start: datetime, end: datetime, lookback_end: datetime) -> Any:
    # A job matters to [start, end) if it was logged before the period (plus the follow-up
    # window) ended and something about it happened or fell due after the period (less
    # the window) began, or it is still open.
    return and_(
        or_(table.c.logged_at.is_(None), table.c.logged_at < lookback_end),
        or_(table.c.horizon_at >= start, table.c.is_open),
    )


async def technician_facts(conn: AsyncConnection) -> dict[str, dict[str, Any]]:
    """Every technician's facts."""
    rows = await conn.execute(select(technicians.c.technician_id, technicians.c.facts))
    return {r.technician_id: r.facts for r in rows}


async def subjects_for_period(
    conn: AsyncConnection, start: datetime, end: datetime, lookback_end: datetime, until: datetime
) -> list[str]:
    """Work orders that can count in a period as known at ``until`` (a superset)."""
    stmt = select(jobs.c.work_order_id).where(
        _relevant(jobs, start, end, lookback_end),
        or_(jobs.c.logged_at.is_(None), jobs.c.logged_at <= until),
    )
    return [r.work_order_id for r in await conn.execute(stmt)]


async def events_for_subjects(
    conn: AsyncConnection, subjects: Iterable[str] | None, until: datetime, topic: str | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Events up to ``until`` of the given subjects (or a whole topic), grouped by subject."""
    stmt = select(*_TIMELINE_COLUMNS).where(
        event_log.c.occurred_at <= until, event_log.c.event_type != LOCATION_PING
    )
    if subjects is not None:
        # One array parameter: an IN list of tens of thousands of ids would exceed the
        # protocol's 65 535 bind parameters.
        wanted = bindparam("subjects", list(subjects), type_=ARRAY(Text))
        stmt = stmt.where(event_log.c.subject == any_(wanted))
    if topic is not None:
        stmt = stmt.where(event_log.c.topic == topic)
    else:
        stmt = stmt.where(event_log.c.topic != TECHNICIANS)
    stmt = stmt.order_by(event_log.c.subject)
    result = await conn.stream(stmt.execution_options(yield_per=2000))
    async for row in result:
        yield dict(row._mapping)


async def exported_events(
    conn: AsyncConnection,
    *,
    topics: Sequence[str] | None,
    types: Sequence[str] | None,
    since: datetime | None,
    until: datetime | None,
) -> AsyncIterator[dict[str, Any]]:
    """Events for an export, by time then arrival."""
    stmt = select(event_log)
    if topics:
        stmt = stmt.where(event_log.c.topic.in_(list(topics)))
    if types:
        stmt = stmt.where(event_log.c.event_type.in_(list(types)))
    if since is not None:
        stmt = stmt.where(event_log.c.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(event_log.c.occurred_at < until)
    stmt = stmt.order_by(event_log.c.occurred_at, event_log.c.seq)
    result = await conn.stream(stmt.execution_options(yield_per=5000))
    async for row in result:
        yield dict(row._mapping)


async def counts(conn: AsyncConnection) -> dict[str, dict[str, int]]:
    """Jobs by status and events by type."""
    by_status = await conn.execute(select(jobs.c.status, func.count()).group_by(jobs.c.status))
    by_type = await conn.execute(
        select(event_log.c.event_type, func.count()).group_by(event_log.c.event_type)
    )
    return {
        "jobs_by_status": {str(s): n for s, n in by_status.tuples()},
        "events_by_type": {t: n for t, n in by_type.tuples()},
    }
