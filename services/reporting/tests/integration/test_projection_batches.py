"""However the projector's batches split and order the events, its rows equal one refold.

One refold of the whole log (what `rebuild` does): replay determinism of the batch
projection, on real PostgreSQL.
"""

import random

import pytest

from jobstream.db import async_engine
from jobstream.reporting.db.tables import LIVE
from jobstream.reporting.projections import project_batch
from jobstream.reporting.rebuild import rebuild
from jobstream.testing.builders import rows_of

pytestmark = pytest.mark.integration

MIGRATIONS = "jobstream.reporting.db:migrations"


async def every_row(engine):
    """Every projected table's rows (the event log left out: its arrival order differs)."""
    out = {}
    async with engine.connect() as conn:
        for name, table in LIVE.tables().items():
            if name != "event_log":
                key = next(iter(table.primary_key.columns)).name
                rows = await rows_of(conn, table, order_by=key)
                out[name] = sorted(rows, key=lambda r: (r.get("work_order_id") or "", str(r)))
    return out


def batches(items, rng):
    """``items`` shuffled and cut into batches of random sizes (one to a dozen)."""
    items = list(items)
    rng.shuffle(items)
    out = []
    while items:
        size = rng.randint(1, 12)
        out.append(items[:size])
        items = items[size:]
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_batches_in_any_split_and_order_project_what_a_rebuild_folds(
    database_factory, week, seed
):
    story = week.envelopes()
    engine = async_engine(database_factory(MIGRATIONS))
    for batch in batches(story, random.Random(seed)):
        async with engine.begin() as conn:
            await project_batch(conn, batch)
    live = await every_row(engine)
    assert live["jobs"] and live["job_measures"] and live["technicians"]

    await rebuild(engine, "jobs")
    await rebuild(engine, "technicians")
    assert await every_row(engine) == live
    await engine.dispose()


async def test_an_event_the_log_already_holds_is_folded_once(database_factory, week):
    story = week.envelopes()
    engine = async_engine(database_factory(MIGRATIONS))
    half = len(story) // 2
    async with engine.begin() as conn:
        await project_batch(conn, story[:half])
    # The second batch repeats two logged events (the log keeps its copies).
    async with engine.begin() as conn:
        await project_batch(conn, [story[0], story[half - 1], *story[half:]])
    live = await every_row(engine)
    assert sum(j["event_count"] for j in live["jobs"]) + sum(
        t["event_count"] for t in live["technicians"]
    ) == len(story)

    await rebuild(engine, "jobs")
    await rebuild(engine, "technicians")
    assert await every_row(engine) == live
    await engine.dispose()


async def test_an_event_twice_in_one_batch_is_folded_once(database_factory, week):
    story = week.envelopes()
    engine = async_engine(database_factory(MIGRATIONS))
    async with engine.begin() as conn:
        await project_batch(conn, [*story, story[0]])
    live = await every_row(engine)
    assert sum(j["event_count"] for j in live["jobs"]) + sum(
        t["event_count"] for t in live["technicians"]
    ) == len(story)
    await engine.dispose()
