"""`rebuild --from-kafka`: every table of reporting refilled from the topics, then switched to.

Every table, the event log included, is refilled from the topics at offset zero into a new
generation, then switched to while the live projector keeps going; over real Kafka and
PostgreSQL.
"""

import asyncio
import dataclasses
import uuid

import pytest
from sqlalchemy import delete, func, select, update

from jobstream.db import async_engine
from jobstream.messaging.consumer import ConsumerRunner
from jobstream.reporting.app import consumers
from jobstream.reporting.db.tables import LIVE, consumer_tables, metadata
from jobstream.reporting.rebuild import rebuild_from_kafka
from jobstream.testing.builders import rows_of
from jobstream.testing.contract_suite import RunningConsumer, publish
from jobstream.testing.schema_drift import schema_differences
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

KEYS = {
    "event_log": "event_id",
    "jobs": "work_order_id",
    "job_measures": "work_order_id",
    "job_parts": "entry_id",
    "job_labour": "n",
    "job_money": "n",
    "job_open_spans": "opened_at",
    "job_snapshots": "work_order_id",
    "technicians": "technician_id",
}


async def snapshot(engine, group=None):
    """Every reporting table, and the group's processed ids.

    The event log is taken without arrival order and time.
    """
    out = {}
    async with engine.connect() as conn:
        for name, table in LIVE.tables().items():
            rows = await rows_of(conn, table, exclude=("seq", "recorded_at"), order_by=KEYS[name])
            out[name] = sorted(rows, key=lambda r: (r.get("work_order_id") or "", str(r)))
        if group is not None:
            t = consumer_tables.processed
            out["processed"] = sorted(
                (
                    await conn.execute(select(t.c.event_id).where(t.c.consumer_group == group))
                ).scalars()
            )
    return out


def live_spec(topics, group):
    return dataclasses.replace(consumers(None)[0], topics=tuple(topics.values()), group_id=group)


async def stored_offsets(engine, group):
    t = consumer_tables.offsets
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(t.c.topic, t.c.partition, t.c.next_offset).where(t.c.consumer_group == group)
        )
        return {(r.topic, r.partition): r.next_offset for r in rows}


async def test_a_rebuild_from_kafka_equals_the_live_tables(project, week, infra):
    group = f"reporting.projector.{uuid.uuid4().hex[:8]}"
    engine, topics, story = await project(week.events, group_id=group)
    before = await snapshot(engine, group)
    assert len(before["event_log"]) == len(story) and before["job_measures"]

    report = await rebuild_from_kafka(
        engine, live_spec(topics, group), consumer_tables, bootstrap_servers=infra.bootstrap_servers
    )

    assert await snapshot(engine, group) == before
    assert report.records == len(story) and report.events == len(story)
    # The live projector's stored offsets now say where the new generation stopped: the end.
    offsets = await stored_offsets(engine, group)
    assert sum(offsets.values()) == len(story)
    # Renamed back to exactly what the migrations made (indexes, keys, sequences).
    assert schema_differences(engine.url.render_as_string(False), metadata) == []


async def test_a_rebuild_from_kafka_repairs_a_damaged_event_log(project, week, infra):
    group = f"reporting.projector.{uuid.uuid4().hex[:8]}"
    engine, topics, _story = await project(week.events, group_id=group)
    before = await snapshot(engine, group)
    log, jobs = LIVE.event_log, LIVE.jobs
    async with engine.begin() as conn:
        # Events lost from the log, and a row that no longer matches it.
        await conn.execute(delete(log).where(log.c.subject == week.j2.work_order_id))
        await conn.execute(
            update(jobs).where(jobs.c.work_order_id == week.j1.work_order_id).values(status="?")
        )
        damaged = await conn.scalar(select(func.count()).select_from(log))
    assert damaged < len(before["event_log"])

    await rebuild_from_kafka(
        engine, live_spec(topics, group), consumer_tables, bootstrap_servers=infra.bootstrap_servers
    )

    assert await snapshot(engine, group) == before


async def test_the_live_projector_carries_on_after_the_switch_missing_nothing(
    project, week, infra, database_factory
):
    group = f"reporting.projector.{uuid.uuid4().hex[:8]}"
    engine, topics, story = await project(week.events, group_id=group)
    later = type(week)(run=week.run + "x")
    more = later.envelopes()
    spec = live_spec(topics, group)
    live = RunningConsumer(
        ConsumerRunner(spec, engine, consumer_tables, bootstrap_servers=infra.bootstrap_servers)
    )

    async def publish_more():
        for name, topic in topics.items():
            await publish(infra.bootstrap_servers, topic, [e for e in more if e.data.topic == name])

    await asyncio.gather(
        publish_more(),
        rebuild_from_kafka(
            engine, spec, consumer_tables, bootstrap_servers=infra.bootstrap_servers
        ),
    )

    async def everything_logged() -> bool:
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(LIVE.event_log))
        return count == len(story) + len(more)

    await wait_until(everything_logged, timeout=120, message="every event in the log")
    await live.stop()

    # The same tables as a projector that read both weeks from the start into a new database.
    fresh = async_engine(database_factory("jobstream.reporting.db:migrations"))
    reader = RunningConsumer(
        ConsumerRunner(
            live_spec(topics, f"reporting.fresh.{uuid.uuid4().hex[:8]}"),
            fresh,
            consumer_tables,
            bootstrap_servers=infra.bootstrap_servers,
        )
    )
    await reader.wait_applied(len(story) + len(more), timeout=120)
    await reader.stop()
    assert await snapshot(engine) == await snapshot(fresh)
    await fresh.dispose()
