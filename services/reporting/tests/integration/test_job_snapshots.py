"""Jobs folded onto their snapshots, on real PostgreSQL: the rows a rebuild from the log makes.

The projector folds a job's new events onto its `job_snapshots` row when they go on the end
of its causal order and refolds it from the log when they do not (docs/adr/0083); either
way its rows, snapshot row included, are those `rebuild jobs` folds from zero.
"""

import asyncio
import dataclasses

import pytest
from sqlalchemy import select, text

from jobstream.contracts.topics import TECHNICIANS
from jobstream.db import async_engine
from jobstream.reporting.db.tables import JOB_TABLES, LIVE
from jobstream.reporting.projections import project_batch
from jobstream.reporting.rebuild import create_shadows, fold_all, rebuild, shadow_generation, swap
from jobstream.testing.builders import rows_of
from jobstream.testing.waiting import wait_until

pytestmark = pytest.mark.integration

MIGRATIONS = "jobstream.reporting.db:migrations"


async def job_rows(engine):
    """Every row of the jobs projection's tables, snapshots included, by table."""
    out = {}
    async with engine.connect() as conn:
        for name in JOB_TABLES:
            table = getattr(LIVE, name)
            key = next(iter(table.primary_key.columns)).name
            rows = await rows_of(conn, table, order_by=key)
            out[name] = sorted(rows, key=lambda r: (r.get("work_order_id") or "", str(r)))
    return out


def chained(envelopes):
    """The envelopes with each job event caused by the job's previous one (as reactions are)."""
    last: dict[str, str] = {}
    out = []
    for envelope in envelopes:
        cause = last.get(envelope.subject)
        last[envelope.subject] = envelope.id
        out.append(dataclasses.replace(envelope, causation_id=cause))
    return out


async def project(engine, *batches):
    for batch in batches:
        async with engine.begin() as conn:
            await project_batch(conn, batch)


async def snapshot_positions(engine):
    t = LIVE.job_snapshots
    async with engine.connect() as conn:
        return dict((await conn.execute(select(t.c.work_order_id, t.c.position))).all())


async def test_rows_after_an_out_of_order_delivery_are_those_a_rebuild_folds(
    database_factory, week
):
    engine = async_engine(database_factory(MIGRATIONS))
    j1 = [e for e in chained(week.envelopes()) if e.subject == week.j1.work_order_id]
    others = [e for e in week.envelopes() if e.subject != week.j1.work_order_id]
    # J1's first events in order, then two later ones whose cause is still on its way, then
    # that cause (a refold), then the rest in order (folded on again).
    await project(engine, others, j1[:3], j1[5:7])
    positions = await snapshot_positions(engine)
    assert j1[4].id in positions[week.j1.work_order_id]["pending"]
    await project(engine, [j1[4]], [j1[3]], *[[e] for e in j1[7:]])
    live = await job_rows(engine)
    [row] = [r for r in live["jobs"] if r["work_order_id"] == week.j1.work_order_id]
    assert row["event_count"] == len(j1)

    await rebuild(engine, "jobs")
    assert await job_rows(engine) == live
    await engine.dispose()


async def test_a_batch_held_back_by_a_rebuilds_switch_goes_on_after_it(database_factory, week):
    """The switch drops and renames the jobs tables while the projector's insert waits."""
    engine = async_engine(database_factory(MIGRATIONS))
    story = week.envelopes()
    half = len(story) // 2
    await project(engine, story[:half])
    gen = shadow_generation(JOB_TABLES)
    await create_shadows(engine, [getattr(gen, n) for n in JOB_TABLES])
    await fold_all(engine, gen, ["jobs"])

    async with engine.begin() as switch:
        await switch.execute(text('LOCK TABLE "event_log" IN SHARE ROW EXCLUSIVE MODE'))
        batch = asyncio.create_task(project(engine, story[half:]))

        async def held_back():
            return await switch.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted "
                    "AND relation = 'event_log'::regclass"
                )
            )

        await wait_until(held_back, timeout=10, message="the batch waiting on the log")
        for name in JOB_TABLES:
            await swap(switch, getattr(LIVE, name), getattr(gen, name))
    await asyncio.wait_for(batch, timeout=30)

    live = await job_rows(engine)
    assert sum(r["event_count"] for r in live["jobs"]) == sum(
        1 for e in story if e.data.topic != TECHNICIANS
    )
    await rebuild(engine, "jobs")
    assert await job_rows(engine) == live
    await engine.dispose()
