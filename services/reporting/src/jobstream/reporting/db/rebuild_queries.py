"""The queries of `jobstream-reporting rebuild` (rebuild.py): look-ups, counts, bookkeeping.

Catalogue look-ups for the switch, event counts per subject, and the consumer bookkeeping
a rebuild from Kafka takes over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition
from sqlalchemy import Table, TextClause, and_, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from jobstream.contracts.topics import TECHNICIANS
from jobstream.reporting.db.queries import LOCATION_PING
from jobstream.reporting.db.tables import Generation


def belongs(log: Table, projection: str) -> Any:
    """Which event-log rows a projection (jobs or technicians) folds."""
    topic = log.c.topic != TECHNICIANS if projection == "jobs" else log.c.topic == TECHNICIANS
    return and_(topic, log.c.event_type != LOCATION_PING)


async def event_counts(conn: AsyncConnection, log: Table, projection: str) -> dict[str, int]:
    """Events per subject that the projection folds."""
    stmt = (
        select(log.c.subject, func.count()).where(belongs(log, projection)).group_by(log.c.subject)
    )
    return {subject: n for subject, n in (await conn.execute(stmt)).all()}


async def stale_subjects(conn: AsyncConnection, gen: Generation, projection: str) -> list[str]:
    """Subjects whose row in ``gen`` is stale, or that have no row.

    Stale: folded from another number of events than the log now holds for them.
    """
    table = gen.jobs if projection == "jobs" else gen.technicians
    key = table.c.work_order_id if projection == "jobs" else table.c.technician_id
    counts = (
        select(gen.event_log.c.subject, func.count().label("n"))
        .where(belongs(gen.event_log, projection))
        .group_by(gen.event_log.c.subject)
        .subquery()
    )
    stmt = (
        select(counts.c.subject)
        .select_from(counts.outerjoin(table, key == counts.c.subject))
        .where(key.is_(None) | (table.c.event_count != counts.c.n))
        .order_by(counts.c.subject)
    )
    return list((await conn.execute(stmt)).scalars())


# The catalogue's names for a table (bound as ``:table``), in order.
INDEX_NAMES = text(
    "SELECT indexname FROM pg_indexes "
    "WHERE schemaname = current_schema() AND tablename = :table ORDER BY indexname"
)
OWNED_SEQUENCES = text(
    "SELECT s.relname FROM pg_depend d JOIN pg_class s ON s.oid = d.objid "
    "WHERE d.refobjid = CAST(:table AS regclass) AND s.relkind = 'S' ORDER BY 1"
)


async def _catalogue_names(conn: AsyncConnection, query: TextClause, table: str) -> list[str]:
    """The names a one-column catalogue query about ``table`` lists."""
    return list((await conn.execute(query, {"table": table})).scalars())


async def index_names(conn: AsyncConnection, table: str) -> list[str]:
    """Names of a table's indexes (those of its primary key and unique constraints too)."""
    return await _catalogue_names(conn, INDEX_NAMES, table)


async def owned_sequences(conn: AsyncConnection, table: str) -> list[str]:
    """Names of the sequences a table's identity or serial columns own."""
    return await _catalogue_names(conn, OWNED_SEQUENCES, table)


async def mark_processed(
    conn: AsyncConnection, processed: Table, group: str, event_ids: Sequence[str]
) -> set[str]:
    """Record event ids as processed by ``group``; the ids that were not yet."""
    if not event_ids:
        return set()
    ids = list(dict.fromkeys(event_ids))
    result = await conn.execute(
        pg_insert(processed)
        .values([{"consumer_group": group, "event_id": i} for i in ids])
        .on_conflict_do_nothing()
        .returning(processed.c.event_id)
    )
    return set(result.scalars())


async def lock_offsets(
    conn: AsyncConnection, offsets: Table, group: str, partitions: Sequence[TopicPartition]
) -> dict[TopicPartition, int]:
    """Lock a group's stored offset of every partition (making missing rows at 0), return them."""
    await conn.execute(
        pg_insert(offsets)
        .values(
            [
                {
                    "consumer_group": group,
                    "topic": tp.topic,
                    "partition": tp.partition,
                    "next_offset": 0,
                }
                # Sorted, as the consumer runner makes them: no waiting in a cycle with it.
                for tp in sorted(partitions)
            ]
        )
        .on_conflict_do_nothing()
    )
    rows = await conn.execute(
        select(offsets.c.topic, offsets.c.partition, offsets.c.next_offset)
        .where(offsets.c.consumer_group == group)
        .order_by(offsets.c.topic, offsets.c.partition)
        .with_for_update()
    )
    wanted = set(partitions)
    return {
        tp: int(next_offset)
        for topic, partition, next_offset in rows.all()
        if (tp := TopicPartition(topic, partition)) in wanted
    }


async def store_offsets(
    conn: AsyncConnection, offsets: Table, group: str, positions: Mapping[TopicPartition, int]
) -> None:
    """Set a group's stored offsets (rows exist: lock_offsets made them)."""
    now = datetime.now(UTC)
    for tp, next_offset in positions.items():
        await conn.execute(
            offsets.update()
            .where(
                offsets.c.consumer_group == group,
                offsets.c.topic == tp.topic,
                offsets.c.partition == tp.partition,
            )
            .values(next_offset=next_offset, updated_at=now)
        )


async def carry_other_groups(conn: AsyncConnection, live: Table, shadow: Table, group: str) -> None:
    """Copy other consumer groups' processed ids into the new table before the switch."""
    # Other groups' appliers wait from here on, so none of their rows is lost in between.
    await conn.execute(text(f'LOCK TABLE "{live.name}" IN EXCLUSIVE MODE'))
    await conn.execute(
        insert(shadow).from_select(
            [c.name for c in live.c], select(live).where(live.c.consumer_group != group)
        )
    )
