"""`jobstream-reporting rebuild`: recompute projections from zero into new tables while the
old ones keep serving, then switch over in one short transaction (docs/adr/0051).

Each projection (``jobs``, ``technicians``) is a fold of reporting's event log. The new
table ``<name>_rebuild`` is filled subject by subject from the log as it stands; then, with
inserts into the log held back for a moment, every subject whose event count differs from
what was folded (events that arrived meanwhile) is folded again, and the tables are
swapped by renaming. Readers see the old table until the commit and the new one after.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import MetaData, Table, Text, and_, any_, bindparam, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import quoted_name

from jobstream.contracts.topics import TECHNICIANS
from jobstream.reporting.db import queries
from jobstream.reporting.db.tables import REBUILDABLE, event_log
from jobstream.reporting.projections import (
    fold_job,
    fold_technician,
    job_row,
    technician_row,
)

log = structlog.get_logger(__name__)
SUFFIX = "_rebuild"


@dataclass(frozen=True)
class Projection:
    """How one projection is folded from the log."""

    table: Table
    key: str
    belongs: Any  # which event-log rows feed it
    row: Callable[[str, list[Mapping[str, Any]]], dict[str, Any]]


PROJECTIONS: dict[str, Projection] = {
    "jobs": Projection(
        REBUILDABLE["jobs"],
        "work_order_id",
        and_(event_log.c.topic != TECHNICIANS, event_log.c.event_type != queries.LOCATION_PING),
        lambda subject, events: job_row(fold_job(subject, events)),
    ),
    "technicians": Projection(
        REBUILDABLE["technicians"],
        "technician_id",
        event_log.c.topic == TECHNICIANS,
        lambda subject, events: technician_row(fold_technician(subject, events)),
    ),
}


@dataclass(frozen=True)
class RebuildReport:
    """What one projection's rebuild did."""

    projection: str
    events: int
    rows: int
    caught_up: int
    seconds: float
    switch_seconds: float

    @property
    def events_per_second(self) -> float:
        """Events folded per second over the whole rebuild."""
        return self.events / self.seconds if self.seconds else 0.0


def shadow_of(table: Table) -> Table:
    """``<table>_rebuild`` with the same columns and suffixed index names."""
    shadow = table.to_metadata(MetaData(), name=table.name + SUFFIX)
    for index in shadow.indexes:
        index.name = quoted_name(f"{index.name}{SUFFIX}", None)
    return shadow


async def _fold_into(
    read: AsyncConnection,
    write: AsyncConnection,
    projection: Projection,
    shadow: Table,
    subjects: list[str] | None,
    batch_size: int,
) -> tuple[int, int]:
    """Fold subjects (all when None) from the log into ``shadow``; (events, rows)."""
    columns = [c for c in event_log.c if c.name not in ("seq", "recorded_at")]
    stmt = select(*columns).where(projection.belongs)
    if subjects is not None:
        wanted = bindparam("subjects", subjects, type_=ARRAY(Text))
        stmt = stmt.where(event_log.c.subject == any_(wanted))
    stmt = stmt.order_by(event_log.c.subject)
    events = 0
    rows: list[dict[str, Any]] = []
    written = 0
    current: list[Mapping[str, Any]] = []

    async def flush() -> None:
        nonlocal rows, written
        if rows:
            await queries.upsert(write, shadow, projection.key, rows)
            written += len(rows)
            rows = []

    result = await read.stream(stmt.execution_options(yield_per=5000))
    async for record in result:
        event = dict(record._mapping)
        if current and current[0]["subject"] != event["subject"]:
            rows.append(projection.row(current[0]["subject"], current))
            current = []
            if len(rows) >= batch_size:
                await flush()
        current.append(event)
        events += 1
    if current:
        rows.append(projection.row(current[0]["subject"], current))
    await flush()
    return events, written


async def _stale_subjects(
    conn: AsyncConnection, projection: Projection, shadow: Table
) -> list[str]:
    counts = (
        select(event_log.c.subject, func.count().label("n"))
        .where(projection.belongs)
        .group_by(event_log.c.subject)
        .subquery()
    )
    key = shadow.c[projection.key]
    stmt = (
        select(counts.c.subject)
        .select_from(counts.outerjoin(shadow, key == counts.c.subject))
        .where((key.is_(None)) | (shadow.c.event_count != counts.c.n))
    )
    return [r.subject for r in await conn.execute(stmt)]


async def _swap(conn: AsyncConnection, table: Table, shadow: Table) -> None:
    name = table.name
    await conn.execute(text(f'DROP TABLE "{name}"'))
    await conn.execute(text(f'ALTER TABLE "{shadow.name}" RENAME TO "{name}"'))
    await conn.execute(text(f'ALTER INDEX "{shadow.name}_pkey" RENAME TO "{name}_pkey"'))
    for index in table.indexes:
        await conn.execute(text(f'ALTER INDEX "{index.name}{SUFFIX}" RENAME TO "{index.name}"'))


async def rebuild(engine: AsyncEngine, name: str, *, batch_size: int = 1000) -> RebuildReport:
    """Rebuild one projection from the event log and switch readers over to it."""
    projection = PROJECTIONS[name]
    shadow = shadow_of(projection.table)
    started = time.perf_counter()
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP TABLE IF EXISTS "{shadow.name}"'))
        await conn.run_sync(lambda sync: shadow.create(sync))
    async with engine.connect() as read, engine.connect() as write:
        async with read.begin():
            events, rows = await _fold_into(read, write, projection, shadow, None, batch_size)
        await write.commit()
    log.info("rebuild_filled", projection=name, events=events, rows=rows)
    switch_started = time.perf_counter()
    async with engine.connect() as read, engine.begin() as conn:
        # Holds back the projector's inserts into the log (readers carry on) so that the
        # catch-up below sees every event there will be until the switch commits.
        await conn.execute(text("LOCK TABLE event_log IN SHARE ROW EXCLUSIVE MODE"))
        stale = await _stale_subjects(conn, projection, shadow)
        if stale:
            async with read.begin():
                await _fold_into(read, conn, projection, shadow, stale, batch_size)
        await _swap(conn, projection.table, shadow)
    finished = time.perf_counter()
    report = RebuildReport(
        name, events, rows, len(stale), finished - started, finished - switch_started
    )
    log.info("rebuild_switched", projection=name, caught_up=len(stale), seconds=report.seconds)
    return report
